import { z } from "zod";
import { Id, Timestamp } from "./ids.js";

/** Where a person talks to the Product Owner. */
export const ChatChannelKind = z.enum(["telegram", "web"]);
export type ChatChannelKind = z.infer<typeof ChatChannelKind>;

/** The languages the system's own messages come in; the PO answers in whatever the person writes. */
export const ChatLanguage = z.enum(["en", "ru"]);
export type ChatLanguage = z.infer<typeof ChatLanguage>;

/** `processing`: the PO is working on a message; `awaiting`: a run waits for the person's answer. */
export const ConversationState = z.enum(["idle", "processing", "awaiting"]);
export type ConversationState = z.infer<typeof ConversationState>;

/**
 * Secrets the PO asked the person for: the next message that is a bare value (or the web chat's
 * masked field) fills the first name still missing, for this project.
 */
export const AwaitedSecrets = z.object({
  projectId: Id,
  keys: z
    .array(z.string().regex(/^[A-Z][A-Z0-9_]*$/))
    .min(1)
    .max(20),
});
export type AwaitedSecrets = z.infer<typeof AwaitedSecrets>;

/** One chat with one person: a Telegram chat, or a web conversation. */
export const Conversation = z.object({
  id: Id,
  channel: ChatChannelKind,
  /** The channel's chat id (Telegram's chat id; a web conversation's own id). */
  chatId: z.string().min(1),
  userId: Id.nullable(),
  title: z.string(),
  state: ConversationState,
  language: ChatLanguage,
  /** What the PO was told of the history it no longer sees in full. */
  summary: z.string().nullable(),
  /** The last message seq the summary covers (0: none). */
  summarizedThrough: z.number().int().min(0),
  /** Product questions the PO asked since the person's last build started. */
  questionsAsked: z.number().int().min(0),
  /** The blocked engineering run whose question the person's next message answers. */
  awaitingRunId: Id.nullable(),
  awaitingSecrets: AwaitedSecrets.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Conversation = z.infer<typeof Conversation>;

export const ConversationUpdate = z.object({
  title: z.string().max(200).optional(),
  language: ChatLanguage.optional(),
  summary: z.string().nullable().optional(),
  summarizedThrough: z.number().int().min(0).optional(),
  questionsAsked: z.number().int().min(0).optional(),
  awaitingRunId: Id.nullable().optional(),
  awaitingSecrets: AwaitedSecrets.nullable().optional(),
});
export type ConversationUpdate = z.infer<typeof ConversationUpdate>;

export const ChatMessageRole = z.enum(["person", "po", "system"]);
export type ChatMessageRole = z.infer<typeof ChatMessageRole>;

/** What a message is: the PO's or person's words, or something the system composed from run events. */
export const ChatMessageKind = z.enum(["text", "progress", "live", "failed", "blocked", "error", "notice"]);
export type ChatMessageKind = z.infer<typeof ChatMessageKind>;

/**
 * A person's message is `queued` until the PO has handled it; a message to the person is
 * `pending` until the channel has it in its latest version (`sent`), or `failed` past its retries.
 */
export const ChatMessageStatus = z.enum(["queued", "handled", "pending", "sent", "failed"]);
export type ChatMessageStatus = z.infer<typeof ChatMessageStatus>;

export const ChatLink = z.object({ url: z.string(), label: z.string() });
export type ChatLink = z.infer<typeof ChatLink>;

/** A button under a message; `data` is what a press sends back (Telegram's callback_data). */
export const ChatButton = z.object({ text: z.string().min(1), data: z.string().min(1).max(64) });
export type ChatButton = z.infer<typeof ChatButton>;

export const ChatMessage = z.object({
  id: Id,
  conversationId: Id,
  /** Orders every message of every conversation; a reader resumes after the last one it saw. */
  seq: z.number().int().positive(),
  role: ChatMessageRole,
  kind: ChatMessageKind,
  text: z.string(),
  runId: Id.nullable(),
  links: z.array(ChatLink),
  buttons: z.array(ChatButton),
  status: ChatMessageStatus,
  /** Bumped by each edit (progress messages); the channel is behind while `delivered < version`. */
  version: z.number().int().min(1),
  delivered: z.number().int().min(0),
  /** The channel's id of the message it shows (Telegram's message_id), once sent. */
  externalId: z.string().nullable(),
  attempts: z.number().int().min(0),
  createdAt: Timestamp,
  editedAt: Timestamp.nullable(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/** A message to the person; `key` makes it idempotent within its conversation (a retried effect). */
export const ChatMessageCreate = z.object({
  conversationId: Id,
  role: z.enum(["po", "system"]),
  kind: ChatMessageKind.default("text"),
  text: z.string().min(1),
  runId: Id.nullable().default(null),
  links: z.array(ChatLink).default([]),
  buttons: z.array(ChatButton).default([]),
  key: z.string().min(1).max(200).nullable().default(null),
});
export type ChatMessageCreate = z.input<typeof ChatMessageCreate>;

/** What the API and the web chat see of a message. */
export const ChatMessageView = ChatMessage.pick({
  id: true,
  seq: true,
  role: true,
  kind: true,
  text: true,
  runId: true,
  links: true,
  createdAt: true,
  editedAt: true,
});
export type ChatMessageView = z.infer<typeof ChatMessageView>;

export const ConversationView = Conversation.pick({
  id: true,
  title: true,
  state: true,
  language: true,
  /** The secrets the PO asked for (names only): the web chat shows a masked field for the first. */
  awaitingSecrets: true,
  updatedAt: true,
});
export type ConversationView = z.infer<typeof ConversationView>;

/**
 * A conversation has queued messages for the PO: sent by a process that took them in without the
 * `chat` role, so one chat process works on it at once. The store holds the messages; this only wakes.
 */
export const ChatQueued = z.object({ conversationId: Id });
export type ChatQueued = z.infer<typeof ChatQueued>;
