CREATE TABLE "instances" (
	"id" text PRIMARY KEY NOT NULL,
	"roles" jsonb NOT NULL,
	"incarnation" text NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"probe_url" text,
	"started_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
