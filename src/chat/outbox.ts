import type { ChatMessage, Conversation } from "../contracts/index.js";
import type { Logger } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { type ChatChannel, DeliveryError } from "./channel.js";
import type { ChatFeed } from "./feed.js";

export interface OutboxOptions {
  store: Store;
  channel: ChatChannel;
  feed: ChatFeed;
  logger: Logger;
  /** How often the store is read for messages to deliver, beside being woken by the feed. */
  pollMs?: number;
  /** Conversations delivered to at once; each one's messages go strictly in order. */
  concurrency?: number;
  /** Tries of one message before it is marked `failed`. */
  maxAttempts?: number;
}

/**
 * Delivers what the store says the person should see, through one channel: new messages are sent,
 * edited ones (progress) edited in place. A message is marked delivered only after the channel took
 * it, so a crash in between sends it again after the restart rather than never.
 */
export class Outbox {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private unsubscribe: (() => void) | null = null;
  private readonly chats = new Map<string, Conversation>();

  constructor(private readonly opts: OutboxOptions) {}

  start(): void {
    // Woken by changes of its own channel's conversations only (a conversation's channel is read once).
    this.unsubscribe = this.opts.feed.onAny((conversationId, change) => {
      if (change !== "outgoing") return;
      const known = this.chats.get(conversationId);
      if (known) {
        if (known.channel === this.opts.channel.kind) this.wake();
        return;
      }
      this.conversation(conversationId).then(
        (c) => c.channel === this.opts.channel.kind && this.wake(),
        (error) =>
          this.opts.logger.warn({ err: error, conversationId }, "outbox could not read a conversation"),
      );
    });
    const tick = () => {
      if (this.stopped) return;
      this.wake();
      this.timer = setTimeout(tick, this.opts.pollMs ?? 500);
      this.timer.unref();
    };
    tick();
  }

  /** Delivers now (and once more after the current pass, when one is under way). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((error) => this.opts.logger.error({ err: error }, "outbox pass failed"))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Resolves when nothing is left to deliver (tests). */
  async drained(): Promise<void> {
    while (
      this.running ||
      (await this.opts.store.conversations.undelivered(this.opts.channel.kind, 1)).length > 0
    ) {
      await (this.running ?? new Promise((r) => setTimeout(r, 20)));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe?.();
    await this.running;
  }

  private async pass(): Promise<void> {
    const due = await this.opts.store.conversations.undelivered(this.opts.channel.kind, 200);
    const byConversation = new Map<string, ChatMessage[]>();
    for (const message of due) {
      const list = byConversation.get(message.conversationId) ?? [];
      list.push(message);
      byConversation.set(message.conversationId, list);
    }
    const queues = [...byConversation.values()];
    const workers = Array.from({ length: Math.min(this.opts.concurrency ?? 8, queues.length) }, async () => {
      for (let next = queues.shift(); next; next = queues.shift()) await this.deliverInOrder(next);
    });
    await Promise.all(workers);
  }

  /** One conversation's messages in order; the first that cannot go now holds the ones after it. */
  private async deliverInOrder(messages: ChatMessage[]): Promise<void> {
    for (const message of messages) {
      if (this.stopped) return;
      if (!(await this.deliver(message))) return;
    }
  }

  private async deliver(message: ChatMessage): Promise<boolean> {
    const { store, channel, logger } = this.opts;
    const conversation = await this.conversation(message.conversationId);
    const outbound = {
      kind: message.kind,
      text: message.text,
      links: message.links,
      buttons: message.buttons,
    };
    try {
      let externalId = message.externalId;
      if (externalId === null) externalId = await channel.send(conversation.chatId, outbound);
      else await channel.edit(conversation.chatId, externalId, outbound);
      await store.conversations.markDelivered(message.id, message.version, externalId);
      return true;
    } catch (error) {
      const retryAfterMs =
        error instanceof DeliveryError ? error.retryAfterMs : Math.min(60_000, 1_000 * 2 ** message.attempts);
      const giveUp = retryAfterMs === null || message.attempts + 1 >= (this.opts.maxAttempts ?? 8);
      logger.warn(
        {
          err: error,
          messageId: message.id,
          conversationId: conversation.id,
          attempt: message.attempts + 1,
          giveUp,
        },
        "could not deliver a chat message",
      );
      await store.conversations.markDeliveryFailed(
        message.id,
        error instanceof Error ? error.message : String(error),
        giveUp ? null : Date.now() + (retryAfterMs ?? 0),
      );
      // A message given up on does not hold the ones after it.
      return giveUp;
    }
  }

  private async conversation(id: string): Promise<Conversation> {
    const known = this.chats.get(id);
    if (known) return known;
    const conversation = await this.opts.store.conversations.get(id);
    this.chats.set(id, conversation);
    return conversation;
  }
}
