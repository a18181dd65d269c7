CREATE TABLE "delivery_claims" (
	"batch_id" text PRIMARY KEY NOT NULL,
	"destination_key" text NOT NULL,
	"ids" text[] NOT NULL,
	"sends" integer DEFAULT 1 NOT NULL,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "delivery_claims_destination_idx" ON "delivery_claims" USING btree ("destination_key");