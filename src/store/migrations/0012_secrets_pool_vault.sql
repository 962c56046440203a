CREATE TABLE "bot_pool" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"bot_id" text NOT NULL,
	"bot_username" text NOT NULL,
	"ciphertext" text NOT NULL,
	"length" integer NOT NULL,
	"project_id" uuid,
	"added_by" text,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"taken_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "bot_pool_waits" (
	"project_id" uuid PRIMARY KEY NOT NULL,
	"since" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vault_check" (
	"id" integer PRIMARY KEY NOT NULL,
	"key_id" text NOT NULL,
	"ciphertext" text NOT NULL,
	"rotating_to" text,
	"updated_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "secrets" ADD COLUMN "bot_id" text;--> statement-breakpoint
ALTER TABLE "secrets" ADD COLUMN "bot_username" text;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "awaiting_secrets" jsonb;--> statement-breakpoint
ALTER TABLE "bot_pool" ADD CONSTRAINT "bot_pool_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bot_pool_waits" ADD CONSTRAINT "bot_pool_waits_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bot_pool_bot_unique" ON "bot_pool" USING btree ("bot_id");--> statement-breakpoint
CREATE UNIQUE INDEX "bot_pool_project_unique" ON "bot_pool" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "secrets_bot_idx" ON "secrets" USING btree ("bot_id");