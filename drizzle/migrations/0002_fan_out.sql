CREATE TABLE "deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL,
	"subscription_id" text NOT NULL,
	"channel" text NOT NULL,
	"destination_key" text NOT NULL,
	"address" text NOT NULL,
	"thread" text,
	"domain" text NOT NULL,
	"entity_id" text,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"provider_message_id" text,
	"batch_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "fanned_out_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "deliveries_waiting_idx" ON "deliveries" USING btree ("destination_key","created_at") WHERE "deliveries"."status" in ('queued', 'failed');--> statement-breakpoint
CREATE INDEX "deliveries_waiting_age_idx" ON "deliveries" USING btree ("updated_at") WHERE "deliveries"."status" in ('queued', 'failed');--> statement-breakpoint
CREATE INDEX "deliveries_dead_idx" ON "deliveries" USING btree ("updated_at") WHERE "deliveries"."status" = 'dead';--> statement-breakpoint
CREATE INDEX "deliveries_message_idx" ON "deliveries" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "deliveries_entity_idx" ON "deliveries" USING btree ("entity_id");