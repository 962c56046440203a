-- The health monitor: what it saw of each live release (changes only), the incidents it opened, and
-- the project setting that lets it start an engineering run to repair a release that stays down.
CREATE TABLE "health_transitions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"deployment_id" uuid,
	"is_up" boolean NOT NULL,
	"reason" text,
	"at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"deployment_id" uuid,
	"reason" text NOT NULL,
	"logs_excerpt" text DEFAULT '' NOT NULL,
	"restarts" integer DEFAULT 0 NOT NULL,
	"repair_run_id" uuid,
	"repair_started_at" timestamp with time zone,
	"opened_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"closed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "auto_repair" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "health_transitions" ADD CONSTRAINT "health_transitions_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "health_transitions" ADD CONSTRAINT "health_transitions_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_repair_run_id_runs_id_fk" FOREIGN KEY ("repair_run_id") REFERENCES "public"."runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "health_transitions_project_idx" ON "health_transitions" USING btree ("project_id","at");--> statement-breakpoint
CREATE INDEX "incidents_project_idx" ON "incidents" USING btree ("project_id","opened_at");--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_one_open_per_project" ON "incidents" USING btree ("project_id") WHERE "incidents"."closed_at" is null;