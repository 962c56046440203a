CREATE TABLE "release_owners" (
	"project_id" uuid PRIMARY KEY NOT NULL,
	"release" text,
	"port" integer,
	"owner_id" text,
	"owner_incarnation" text,
	"host" text,
	"pid" integer,
	"handover_id" text,
	"handover_incarnation" text,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "release_owners" ADD CONSTRAINT "release_owners_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;