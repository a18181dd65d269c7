ALTER TABLE "inbound_messages" ADD COLUMN "seq" bigserial NOT NULL;--> statement-breakpoint
ALTER TABLE "inbound_messages" ADD COLUMN "address" text;--> statement-breakpoint
ALTER TABLE "inbound_messages" ADD COLUMN "thread" text;--> statement-breakpoint
ALTER TABLE "inbound_messages" ADD COLUMN "sender_name" text;--> statement-breakpoint
CREATE INDEX "inbound_pending_idx" ON "inbound_messages" USING btree ("conversation_key","seq") WHERE "inbound_messages"."status" = 'received';