ALTER TABLE "subscriptions" ADD COLUMN "disabled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "disabled_reason" text;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "secret" text;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "previous_secret" text;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "previous_secret_until" timestamp with time zone;