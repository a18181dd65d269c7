CREATE INDEX "deliveries_sent_idx" ON "deliveries" USING btree ("sent_at") WHERE "deliveries"."status" = 'sent';--> statement-breakpoint
CREATE INDEX "outbox_unfanned_idx" ON "outbox" USING btree ("dispatched_at") WHERE "outbox"."fanned_out_at" is null;--> statement-breakpoint
CREATE INDEX "outbox_fanned_out_idx" ON "outbox" USING btree ("fanned_out_at") WHERE "outbox"."fanned_out_at" is not null;--> statement-breakpoint
CREATE INDEX "outbox_entity_idx" ON "outbox" USING btree ("entity_id");