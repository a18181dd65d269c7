CREATE TABLE "conflicts" (
	"id" text PRIMARY KEY NOT NULL,
	"domain" text NOT NULL,
	"entity_id" text NOT NULL,
	"field" text NOT NULL,
	"versions" jsonb NOT NULL,
	"status" text NOT NULL,
	"resolution" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "contexts" (
	"id" text PRIMARY KEY NOT NULL,
	"data" jsonb NOT NULL,
	"crdt" jsonb NOT NULL,
	"vclock" jsonb NOT NULL,
	"hlc" text NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"project_id" text,
	"session_id" text,
	"status" text,
	"content_hash" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"change_id" text NOT NULL,
	"domain" text NOT NULL,
	"entity_id" text NOT NULL,
	"node" text NOT NULL,
	"hlc" text NOT NULL,
	"vclock" jsonb NOT NULL,
	"change" jsonb NOT NULL,
	"checksum" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"domain" text NOT NULL,
	"entity_id" text,
	"message" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"dispatched_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" text PRIMARY KEY NOT NULL,
	"data" jsonb NOT NULL,
	"crdt" jsonb NOT NULL,
	"vclock" jsonb NOT NULL,
	"hlc" text NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"project_id" text,
	"session_id" text,
	"status" text,
	"content_hash" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "repos" (
	"id" text PRIMARY KEY NOT NULL,
	"data" jsonb NOT NULL,
	"crdt" jsonb NOT NULL,
	"vclock" jsonb NOT NULL,
	"hlc" text NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"project_id" text,
	"session_id" text,
	"status" text,
	"content_hash" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "services" (
	"id" text PRIMARY KEY NOT NULL,
	"data" jsonb NOT NULL,
	"crdt" jsonb NOT NULL,
	"vclock" jsonb NOT NULL,
	"hlc" text NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"project_id" text,
	"session_id" text,
	"status" text,
	"content_hash" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"data" jsonb NOT NULL,
	"crdt" jsonb NOT NULL,
	"vclock" jsonb NOT NULL,
	"hlc" text NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"project_id" text,
	"session_id" text,
	"status" text,
	"content_hash" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "todos" (
	"id" text PRIMARY KEY NOT NULL,
	"data" jsonb NOT NULL,
	"crdt" jsonb NOT NULL,
	"vclock" jsonb NOT NULL,
	"hlc" text NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"project_id" text,
	"session_id" text,
	"status" text,
	"content_hash" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "topics" (
	"id" text PRIMARY KEY NOT NULL,
	"data" jsonb NOT NULL,
	"crdt" jsonb NOT NULL,
	"vclock" jsonb NOT NULL,
	"hlc" text NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"project_id" text,
	"session_id" text,
	"status" text,
	"content_hash" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "conflicts_open_uq" ON "conflicts" USING btree ("entity_id","field") WHERE "conflicts"."status" = 'open';--> statement-breakpoint
CREATE INDEX "conflicts_status_idx" ON "conflicts" USING btree ("status");--> statement-breakpoint
CREATE INDEX "contexts_project_idx" ON "contexts" USING btree ("project_id","deleted");--> statement-breakpoint
CREATE INDEX "contexts_session_idx" ON "contexts" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "contexts_hash_idx" ON "contexts" USING btree ("project_id","content_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "events_id_uq" ON "events" USING btree ("id");--> statement-breakpoint
CREATE UNIQUE INDEX "events_change_uq" ON "events" USING btree ("change_id");--> statement-breakpoint
CREATE INDEX "events_entity_idx" ON "events" USING btree ("entity_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_id_uq" ON "outbox" USING btree ("id");--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "outbox" USING btree ("seq") WHERE "outbox"."dispatched_at" is null;--> statement-breakpoint
CREATE INDEX "projects_project_idx" ON "projects" USING btree ("project_id","deleted");--> statement-breakpoint
CREATE INDEX "projects_session_idx" ON "projects" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "projects_hash_idx" ON "projects" USING btree ("project_id","content_hash");--> statement-breakpoint
CREATE INDEX "repos_project_idx" ON "repos" USING btree ("project_id","deleted");--> statement-breakpoint
CREATE INDEX "repos_session_idx" ON "repos" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "repos_hash_idx" ON "repos" USING btree ("project_id","content_hash");--> statement-breakpoint
CREATE INDEX "services_project_idx" ON "services" USING btree ("project_id","deleted");--> statement-breakpoint
CREATE INDEX "services_session_idx" ON "services" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "services_hash_idx" ON "services" USING btree ("project_id","content_hash");--> statement-breakpoint
CREATE INDEX "sessions_project_idx" ON "sessions" USING btree ("project_id","deleted");--> statement-breakpoint
CREATE INDEX "sessions_session_idx" ON "sessions" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "sessions_hash_idx" ON "sessions" USING btree ("project_id","content_hash");--> statement-breakpoint
CREATE INDEX "todos_project_idx" ON "todos" USING btree ("project_id","deleted");--> statement-breakpoint
CREATE INDEX "todos_session_idx" ON "todos" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "todos_hash_idx" ON "todos" USING btree ("project_id","content_hash");--> statement-breakpoint
CREATE INDEX "topics_project_idx" ON "topics" USING btree ("project_id","deleted");--> statement-breakpoint
CREATE INDEX "topics_session_idx" ON "topics" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "topics_hash_idx" ON "topics" USING btree ("project_id","content_hash");