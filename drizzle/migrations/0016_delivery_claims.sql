CREATE TABLE "delivery_claims" (
	"destination_key" text PRIMARY KEY NOT NULL,
	"batch_id" text NOT NULL,
	"ids" text[] NOT NULL,
	"sends" integer DEFAULT 1 NOT NULL,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL
);
