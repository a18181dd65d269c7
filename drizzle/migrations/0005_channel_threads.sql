CREATE TABLE "channel_threads" (
	"destination_key" text NOT NULL,
	"entity_id" text NOT NULL,
	"channel" text NOT NULL,
	"root_message_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "channel_threads_destination_key_entity_id_pk" PRIMARY KEY("destination_key","entity_id")
);
