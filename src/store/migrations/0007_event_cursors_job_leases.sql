CREATE TABLE "event_cursors" (
	"subscriber" text PRIMARY KEY NOT NULL,
	"seq" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_leases" (
	"job" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
-- Until now a green engineering run deployed through the engine directly: the events written so far
-- are handled, and the deploy-after-green subscriber starts after them.
INSERT INTO "event_cursors" ("subscriber", "seq") SELECT 'deploy-after-green', coalesce(max("seq"), 0) FROM "run_events";
