CREATE TABLE "agent_config_versions" (
	"node" text NOT NULL,
	"version" integer NOT NULL,
	"backend" text NOT NULL,
	"model" text NOT NULL,
	"prompt" text NOT NULL,
	"max_turns" integer NOT NULL,
	"budget_usd" double precision NOT NULL,
	"timeout_ms" integer NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "agent_config_versions_node_version_pk" PRIMARY KEY("node","version")
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agent_configs" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;