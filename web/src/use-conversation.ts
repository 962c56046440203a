import { useCallback, useEffect, useRef, useState } from "react";
import { type ApiError, asApiError, type ChatApi } from "./api";
import type { ChatMessage, ConversationState } from "./contract";
import { lastSeq, upsertMessages } from "./messages";
import { followConversation } from "./stream";

/** What a conversation's feed tells the view beyond its messages. */
export interface FeedEvents {
  onState(state: ConversationState): void;
  onError(error: ApiError): void;
}

/**
 * A conversation's messages: loaded once, then kept current from its event stream (new messages,
 * edits in place). `messages` is null while loading; `add` merges a message the view got itself
 * (the answer to a send), which the stream may bring again.
 */
export function useConversationFeed(api: ChatApi, conversationId: string, events: FeedEvents) {
  const [messages, setMessages] = useState<ChatMessage[] | null>(null);
  const [isConnected, setConnected] = useState(true);
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
    api.messages(conversationId).then(
      (items) => {
        if (isCancelled) return;
        setMessages(upsertMessages([], items));
        stop = followConversation({
          url: (after) => api.streamUrl(conversationId, after),
          token: api.token,
          after: lastSeq(items),
          handlers: {
            onMessage: (message) => setMessages((list) => upsertMessages(list ?? [], [message])),
            onState: (state) => eventsRef.current.onState(state),
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
  }, []);

  return { messages, isConnected, add };
}
