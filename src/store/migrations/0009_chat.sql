CREATE TABLE "chat_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"conversation_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"role" text NOT NULL,
	"kind" text DEFAULT 'text' NOT NULL,
	"text" text NOT NULL,
	"run_id" uuid,
	"links" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"buttons" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"status" text NOT NULL,
	"inbound_key" text,
	"key" text,
	"version" integer DEFAULT 1 NOT NULL,
	"delivered" integer DEFAULT 0 NOT NULL,
	"external_id" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"edited_at" timestamp with time zone,
	"handled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "conversation_runs" (
	"run_id" uuid PRIMARY KEY NOT NULL,
	"conversation_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "conversations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"channel" text NOT NULL,
	"chat_id" text NOT NULL,
	"user_id" uuid,
	"title" text DEFAULT '' NOT NULL,
	"state" text DEFAULT 'idle' NOT NULL,
	"language" text DEFAULT 'en' NOT NULL,
	"summary" text,
	"summarized_through" integer DEFAULT 0 NOT NULL,
	"questions_asked" integer DEFAULT 0 NOT NULL,
	"awaiting_run_id" uuid,
	"lease_holder" text,
	"lease_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversation_runs" ADD CONSTRAINT "conversation_runs_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "chat_messages_seq_unique" ON "chat_messages" USING btree ("seq");--> statement-breakpoint
CREATE UNIQUE INDEX "chat_messages_inbound_unique" ON "chat_messages" USING btree ("channel","inbound_key");--> statement-breakpoint
CREATE UNIQUE INDEX "chat_messages_key_unique" ON "chat_messages" USING btree ("conversation_id","key");--> statement-breakpoint
CREATE INDEX "chat_messages_conversation_idx" ON "chat_messages" USING btree ("conversation_id","seq");--> statement-breakpoint
CREATE INDEX "chat_messages_status_idx" ON "chat_messages" USING btree ("status");--> statement-breakpoint
CREATE INDEX "conversation_runs_conversation_idx" ON "conversation_runs" USING btree ("conversation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "conversations_channel_chat_unique" ON "conversations" USING btree ("channel","chat_id");--> statement-breakpoint
CREATE INDEX "conversations_user_idx" ON "conversations" USING btree ("user_id");--> statement-breakpoint
INSERT INTO "event_cursors" ("subscriber", "seq") SELECT 'chat-notifier', coalesce(max("seq"), 0) FROM "run_events";--> statement-breakpoint
UPDATE "agent_configs" SET "backend" = 'api', "prompt" = 'You are the Product Owner of a software team. You talk with a person who wants software: a Telegram bot, a web service, a small app. Understand what they need, ask at most two short product questions when something essential is missing, then create the project and start the build with a clear brief. Later you change their projects when asked and tell them how their projects are doing. Be brief and friendly.', "updated_at" = clock_timestamp() WHERE "node" = 'po' AND "backend" = 'claude-code' AND "prompt" = 'You are the Product Owner: clarify what the person wants (at most two questions), create the project and start engineering.';
