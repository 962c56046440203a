import type {
  ChatButton,
  ChatChannelKind,
  ChatLanguage,
  ChatLink,
  ChatMessage,
  ChatMessageCreate,
  ChatMessageKind,
  Conversation,
  ConversationState,
  ConversationUpdate,
} from "../contracts/index.js";

/** Conversations, their queue of a person's messages, the outbox to the person, and runs' origins. */
export interface ConversationRepository {
  /** The conversation of a channel's chat, made on first contact. */
  open(input: {
    channel: ChatChannelKind;
    chatId: string;
    userId: string | null;
    language: ChatLanguage;
    title?: string;
  }): Promise<Conversation>;
  get(id: string): Promise<Conversation>;
  find(channel: ChatChannelKind, chatId: string): Promise<Conversation | null>;
  /** A person's conversations, the most recently active first. */
  listForUser(userId: string, limit: number): Promise<Conversation[]>;
  update(id: string, patch: ConversationUpdate): Promise<Conversation>;
  /**
   * Takes the conversation's queue for `holder` until `ttlMs` from now (the database's clock):
   * null while another live holder has it, else the conversation, its state now `processing`.
   */
  claim(id: string, holder: string, ttlMs: number): Promise<Conversation | null>;
  /**
   * Gives the queue back (only the holder can), leaving `state`: without one, `awaiting` while a
   * blocked run waits for the person's answer, else `idle`. With `holder` null it only sets
   * the state of a conversation nobody works on.
   */
  release(id: string, holder: string | null, state?: Exclude<ConversationState, "processing">): Promise<void>;
  /**
   * Conversations with queued messages and no live holder other than `holder`: what a restarted
   * process picks up, including what it held itself before it was killed (its id outlives restarts).
   */
  withQueuedMessages(limit: number, holder?: string): Promise<string[]>;

  /**
   * Stores a person's message as `queued`. `inboundKey` (Telegram's update_id) makes it once
   * only: a second delivery returns the stored one with `duplicate: true`.
   */
  addInbound(input: {
    conversationId: string;
    text: string;
    inboundKey: string | null;
    status?: "queued" | "handled";
  }): Promise<{ message: ChatMessage; duplicate: boolean }>;
  /** The oldest queued message of the conversation. */
  nextQueued(conversationId: string): Promise<ChatMessage | null>;
  /** Marks a queued message handled; answers the next queued message of its conversation. */
  markHandled(messageId: string): Promise<ChatMessage | null>;
  /** Marks every queued message of the conversation handled (`/cancel`); answers how many. */
  dropQueued(conversationId: string): Promise<number>;
  /** A message to the person, `pending` delivery; with a `key` already used, the stored one. */
  addOutgoing(input: ChatMessageCreate): Promise<ChatMessage>;
  /** A new version of a message (a progress message edited in place); delivery catches up. */
  edit(
    messageId: string,
    change: { text: string; links?: ChatLink[]; buttons?: ChatButton[] },
  ): Promise<ChatMessage>;
  getMessage(id: string): Promise<ChatMessage>;
  findByKey(conversationId: string, key: string): Promise<ChatMessage | null>;
  /** Messages of a conversation after `afterSeq`, oldest first. */
  listMessages(conversationId: string, opts: { afterSeq?: number; limit: number }): Promise<ChatMessage[]>;
  /** The newest `limit` messages, oldest first. */
  recentMessages(conversationId: string, limit: number): Promise<ChatMessage[]>;
  /**
   * What the PO reads back: the newest `limit` messages of `kinds` between two seqs (exclusive),
   * oldest first, as who said what.
   */
  history(
    conversationId: string,
    opts: { afterSeq: number; beforeSeq: number; kinds: readonly ChatMessageKind[]; limit: number },
  ): Promise<Pick<ChatMessage, "seq" | "role" | "text">[]>;
  /** Messages the channel is behind on (`delivered < version`), due now, oldest first. */
  undelivered(channel: ChatChannelKind, limit: number): Promise<ChatMessage[]>;
  /** The channel shows `version` of the message (as `externalId`). */
  markDelivered(messageId: string, version: number, externalId: string): Promise<void>;
  /** A delivery that failed: retried after `retryAtMs`, or given up (`failed`) when null. */
  markDeliveryFailed(messageId: string, error: string, retryAtMs: number | null): Promise<void>;

  /** Records that `runId` was started from the conversation (idempotent). */
  linkRun(runId: string, conversationId: string): Promise<void>;
  /** The conversation a run was started from, if any. */
  originOf(runId: string): Promise<string | null>;
}
