ALTER TABLE "api_tokens" ADD COLUMN "worker_id" uuid;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "summary" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "workers" ADD COLUMN "report" jsonb;--> statement-breakpoint
ALTER TABLE "workers" ADD COLUMN "reported_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "workers" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_worker_id_workers_id_fk" FOREIGN KEY ("worker_id") REFERENCES "public"."workers"("id") ON DELETE cascade ON UPDATE no action;