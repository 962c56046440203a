import type { Bus, Subscription } from "../bus/index.js";
import { ChatQueued } from "../contracts/index.js";
import type { Logger } from "../observability/index.js";

/** The bus stream that wakes a `chat` process for a conversation another process took messages in for. */
export const CHAT_QUEUED_STREAM = "chat.queued";
/** The consumer group of the `chat` processes: each wake-up reaches one of them. */
const CHAT_GROUP = "chat";

/**
 * For a process that takes messages in without working on them (the `api` role alone): tells the
 * chat processes a conversation has queued messages. A lost wake-up costs only time: the messages
 * are in the store, and every chat process looks for queued ones every few seconds.
 */
export function handOverVia(bus: Bus, logger: Logger): (conversationId: string) => void {
  return (conversationId) => {
    const payload: ChatQueued = { conversationId };
    bus
      .publish(CHAT_QUEUED_STREAM, { type: "chat.queued", payload, correlationId: conversationId })
      .catch((error: unknown) =>
        logger.warn(
          { err: error, conversationId },
          "could not wake a chat process; the conversation waits for the next scan",
        ),
      );
  };
}

/**
 * For a `chat` process: works on the conversations other processes hand over. Several chat
 * processes share the stream; the conversation's lease in the store decides who drains it.
 */
export function takeHandovers(
  bus: Bus,
  opts: { consumer: string; work: (conversationId: string) => void },
): Subscription {
  return bus.consume(
    CHAT_QUEUED_STREAM,
    { group: CHAT_GROUP, consumer: opts.consumer },
    async ({ envelope }) => {
      opts.work(ChatQueued.parse(envelope.payload).conversationId);
    },
  );
}
