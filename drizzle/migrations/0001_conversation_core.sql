CREATE TABLE "conversations" (
	"key" text PRIMARY KEY NOT NULL,
	"state" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identities" (
	"key" text PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"person_id" text,
	"display_name" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "inbound_messages" (
	"channel" text NOT NULL,
	"provider_message_id" text NOT NULL,
	"conversation_key" text NOT NULL,
	"identity_key" text NOT NULL,
	"text" text NOT NULL,
	"action_id" text,
	"status" text NOT NULL,
	"reply" jsonb,
	"received_at" timestamp with time zone NOT NULL,
	"processed_at" timestamp with time zone,
	CONSTRAINT "inbound_messages_channel_provider_message_id_pk" PRIMARY KEY("channel","provider_message_id")
);
--> statement-breakpoint
CREATE TABLE "pairing_codes" (
	"code" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"identity_key" text NOT NULL,
	"person_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"used_by" text
);
--> statement-breakpoint
CREATE TABLE "people" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_via" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"address" text NOT NULL,
	"thread" text DEFAULT '' NOT NULL,
	"scope" text NOT NULL,
	"project_id" text,
	"topic_id" text,
	"domains" jsonb NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "identities_person_idx" ON "identities" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "inbound_received_idx" ON "inbound_messages" USING btree ("status","received_at");--> statement-breakpoint
CREATE INDEX "pairing_codes_identity_idx" ON "pairing_codes" USING btree ("identity_key","kind");--> statement-breakpoint
CREATE UNIQUE INDEX "subscriptions_dest_scope_uq" ON "subscriptions" USING btree ("channel","address","thread","scope");--> statement-breakpoint
CREATE INDEX "subscriptions_scope_idx" ON "subscriptions" USING btree ("scope");