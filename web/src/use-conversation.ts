import { useCallback, useEffect, useRef, useState } from "react";
import { type ApiError, asApiError, type ChatApi } from "./api";
import type { ChatMessage, ConversationState } from "./contract";
import { lastSeq, upsertMessages } from "./messages";
import { followConversation } from "./stream";

/** What a conversation's feed tells the view beyond its messages. */
export interface FeedEvents {
  onState(state: ConversationState): void;
  /** A run's outcome came on the stream (live, failed, blocked). */
  onOutcome(): void;
  onError(error: ApiError): void;
}

/** The kinds of message that tell a run's outcome, after which the person's projects look different. */
const OUTCOMES = new Set<ChatMessage["kind"]>(["live", "failed", "blocked"]);

/**
 * A conversation's messages: loaded once, then kept current from its event stream (new messages,
 * edits in place). `messages` is null while loading; `add` merges a message the view got itself
 * (the answer to a send), which the stream may bring again. `isAnswerDue` says the person's newest
 * message has no answer yet: nothing after it, and the stream has not said the work stopped.
 */
export function useConversationFeed(api: ChatApi, conversationId: string, events: FeedEvents) {
  const [messages, setMessages] = useState<ChatMessage[] | null>(null);
  const [isConnected, setConnected] = useState(true);
  // The secrets the PO waits for: the view offers a masked field for the first.
  const [awaitedSecrets, setAwaitedSecrets] = useState<string[]>([]);
  // The seq of the person's message waiting for its answer, if one is.
  const [dueAfter, setDueAfter] = useState<number | null>(null);
  // The latest handlers, so a new render does not reopen the stream.
  const eventsRef = useRef(events);
  useEffect(() => {
    eventsRef.current = events;
  });

  useEffect(() => {
    let stop: (() => void) | null = null;
    let isCancelled = false;
    setMessages(null);
    setConnected(true);
    setAwaitedSecrets([]);
    api.messages(conversationId).then(
      (items) => {
        if (isCancelled) return;
        setMessages(upsertMessages([], items));
        const newest = items.at(-1);
        setDueAfter(newest?.role === "person" ? newest.seq : null);
        stop = followConversation({
          url: (after) => api.streamUrl(conversationId, after),
          after: lastSeq(items),
          handlers: {
            onMessage: (message) => {
              setMessages((list) => upsertMessages(list ?? [], [message]));
              if (OUTCOMES.has(message.kind)) eventsRef.current.onOutcome();
            },
            onState: (state) => {
              if (state !== "processing") setDueAfter(null);
              eventsRef.current.onState(state);
            },
            onSecrets: setAwaitedSecrets,
            onConnection: setConnected,
            onFatal: (error) => eventsRef.current.onError(error),
          },
        });
      },
      (error: unknown) => {
        if (!isCancelled) eventsRef.current.onError(asApiError(error));
      },
    );
    return () => {
      isCancelled = true;
      stop?.();
    };
  }, [api, conversationId]);

  const add = useCallback((message: ChatMessage) => {
    setMessages((list) => upsertMessages(list ?? [], [message]));
    if (message.role === "person") setDueAfter(message.seq);
  }, []);

  const isAnswerDue =
    dueAfter !== null && !(messages ?? []).some((m) => m.seq > dueAfter && m.role !== "person");
  return { messages, isConnected, isAnswerDue, awaitedSecrets, add };
}
