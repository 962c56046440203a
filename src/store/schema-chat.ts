/** Tables of the chat: conversations, their messages (inbound queue and outbox in one), runs' origins and held secrets. */
import { sql } from "drizzle-orm";
import {
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type {
  AwaitedSecrets,
  ChatButton,
  ChatChannelKind,
  ChatLanguage,
  ChatLink,
  ChatMessageKind,
  ChatMessageRole,
  ChatMessageStatus,
  ConversationState,
} from "../contracts/index.js";
import { id, optionalStamp, stamp } from "./schema-columns.js";

/** One per chat of a channel. `lease_*` name the process handling its queue while `processing`. */
export const conversations = pgTable(
  "conversations",
  {
    id: id(),
    channel: text("channel").$type<ChatChannelKind>().notNull(),
    chatId: text("chat_id").notNull(),
    userId: uuid("user_id"),
    title: text("title").notNull().default(""),
    state: text("state").$type<ConversationState>().notNull().default("idle"),
    language: text("language").$type<ChatLanguage>().notNull().default("en"),
    summary: text("summary"),
    summarizedThrough: integer("summarized_through").notNull().default(0),
    questionsAsked: integer("questions_asked").notNull().default(0),
    awaitingRunId: uuid("awaiting_run_id"),
    /** The secrets the PO asked for that the person's next message (or the web's masked field) fills. */
    awaitingSecrets: jsonb("awaiting_secrets").$type<AwaitedSecrets>(),
    leaseHolder: text("lease_holder"),
    leaseUntil: timestamp("lease_until", { withTimezone: true, mode: "date" }),
    createdAt: stamp("created_at"),
    updatedAt: stamp("updated_at"),
  },
  (t) => [
    uniqueIndex("conversations_channel_chat_unique").on(t.channel, t.chatId),
    index("conversations_user_idx").on(t.userId),
  ],
);

/**
 * Every message of a conversation. A person's message is the queue (`queued` until handled; its
 * Telegram `update_id` as `inbound_key`, so an update is stored once across restarts); a message
 * to the person is the outbox (`pending` until the channel shows its latest `version`).
 */
export const chatMessages = pgTable(
  "chat_messages",
  {
    id: id(),
    seq: bigserial("seq", { mode: "number" }).notNull(),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    channel: text("channel").$type<ChatChannelKind>().notNull(),
    role: text("role").$type<ChatMessageRole>().notNull(),
    kind: text("kind").$type<ChatMessageKind>().notNull().default("text"),
    text: text("text").notNull(),
    runId: uuid("run_id"),
    links: jsonb("links").$type<ChatLink[]>().notNull().default(sql`'[]'::jsonb`),
    buttons: jsonb("buttons").$type<ChatButton[]>().notNull().default(sql`'[]'::jsonb`),
    status: text("status").$type<ChatMessageStatus>().notNull(),
    inboundKey: text("inbound_key"),
    key: text("key"),
    version: integer("version").notNull().default(1),
    delivered: integer("delivered").notNull().default(0),
    externalId: text("external_id"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: optionalStamp("next_attempt_at"),
    lastError: text("last_error"),
    createdAt: stamp("created_at"),
    editedAt: optionalStamp("edited_at"),
    handledAt: optionalStamp("handled_at"),
  },
  (t) => [
    uniqueIndex("chat_messages_seq_unique").on(t.seq),
    uniqueIndex("chat_messages_inbound_unique").on(t.channel, t.inboundKey),
    uniqueIndex("chat_messages_key_unique").on(t.conversationId, t.key),
    index("chat_messages_conversation_idx").on(t.conversationId, t.seq),
    index("chat_messages_status_idx").on(t.status),
  ],
);

/** The conversation a run was started from (or, for a deploy after green, its source run's). */
export const conversationRuns = pgTable(
  "conversation_runs",
  {
    runId: uuid("run_id").primaryKey(),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    createdAt: stamp("created_at"),
  },
  (t) => [index("conversation_runs_conversation_idx").on(t.conversationId)],
);

/**
 * Secrets a person pasted into a conversation before it had a project to keep them: vault
 * ciphertexts, held until a project of theirs adopts them (then they are the project's secrets).
 */
export const conversationSecrets = pgTable(
  "conversation_secrets",
  {
    id: id(),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    ciphertext: text("ciphertext").notNull(),
    length: integer("length").notNull(),
    createdAt: stamp("created_at"),
    updatedAt: stamp("updated_at"),
  },
  (t) => [uniqueIndex("conversation_secrets_key_unique").on(t.conversationId, t.key)],
);
