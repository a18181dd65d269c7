CREATE TABLE "slack_installations" (
	"key" text PRIMARY KEY NOT NULL,
	"team_id" text,
	"enterprise_id" text,
	"bot_user_id" text,
	"installation" jsonb NOT NULL,
	"installed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
