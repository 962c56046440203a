import { type FormEvent, type KeyboardEvent, useEffect, useId, useRef, useState } from "react";
import { type ApiError, asApiError, type ChatApi } from "./api";
import { type Conversation, type ConversationState, LANGUAGES, type Language } from "./contract";
import { LANGUAGE_NAMES, useStrings } from "./i18n";
import { MessageItem } from "./message-item";
import { useConversationFeed } from "./use-conversation";

export interface ChatViewProps {
  api: ChatApi;
  conversation: Conversation;
  /** The conversation as the server now has it (after a language change). */
  onConversation(conversation: Conversation): void;
  onState(state: ConversationState): void;
  onError(error: ApiError): void;
}

/** One conversation: its messages as they arrive, its language, and the message box. */
export function ChatView({ api, conversation, onConversation, onState, onError }: ChatViewProps) {
  const strings = useStrings();
  const { messages, isConnected, add } = useConversationFeed(api, conversation.id, { onState, onError });
  const listRef = useRef<HTMLOListElement>(null);
  const languageId = useId();

  // Keep the newest message in view as messages arrive or grow.
  useEffect(() => {
    const list = listRef.current;
    if (list && messages) list.scrollTop = list.scrollHeight;
  }, [messages]);

  const changeLanguage = async (language: Language) => {
    try {
      onConversation(await api.setLanguage(conversation.id, language));
    } catch (error) {
      onError(asApiError(error));
    }
  };

  return (
    <section className="chat" aria-label={conversation.title || strings.untitled}>
      <header className="chat__header">
        <h2>{conversation.title || strings.untitled}</h2>
        <label htmlFor={languageId}>{strings.language}</label>
        <select
          id={languageId}
          data-testid="language-select"
          value={conversation.language}
          onChange={(event) => void changeLanguage(event.target.value as Language)}
        >
          {LANGUAGES.map((language) => (
            <option key={language} value={language} lang={language}>
              {LANGUAGE_NAMES[language]}
            </option>
          ))}
        </select>
      </header>
      {!isConnected && (
        <p className="chat__connection" role="status">
          {strings.reconnecting}
        </p>
      )}
      {messages === null ? (
        <p className="chat__empty" role="status">
          {strings.loading}
        </p>
      ) : messages.length === 0 ? (
        <p className="chat__empty">{strings.noMessages}</p>
      ) : null}
      <ol className="chat__messages" ref={listRef} aria-label={strings.messages} aria-live="polite">
        {messages?.map((message) => (
          <MessageItem key={message.id} message={message} />
        ))}
      </ol>
      <div className="chat__status" role="status">
        {conversation.state === "processing" && (
          <span className="working" data-testid="working-indicator">
            {strings.working}
          </span>
        )}
      </div>
      <Composer
        onSend={async (text) => {
          add(await api.send(conversation.id, text));
        }}
        onError={onError}
      />
    </section>
  );
}

/** The message box: Enter sends, Shift+Enter starts a new line; the text stays if sending fails. */
function Composer({
  onSend,
  onError,
}: {
  onSend(text: string): Promise<void>;
  onError(error: ApiError): void;
}) {
  const strings = useStrings();
  const [text, setText] = useState("");
  const [isSending, setSending] = useState(false);
  const inputId = useId();
  const hintId = useId();
  const canSend = text.trim() !== "" && !isSending;

  const send = async () => {
    if (!canSend) return;
    setSending(true);
    try {
      await onSend(text.trim());
      setText("");
    } catch (error) {
      onError(asApiError(error));
    } finally {
      setSending(false);
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter while an input method composes a word picks the word; it does not send.
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    }
  };

  return (
    <form
      className="composer"
      onSubmit={(event: FormEvent) => {
        event.preventDefault();
        void send();
      }}
    >
      <label htmlFor={inputId} className="visually-hidden">
        {strings.messageLabel}
      </label>
      <textarea
        id={inputId}
        data-testid="message-input"
        rows={2}
        value={text}
        aria-describedby={hintId}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <button type="submit" data-testid="send-button" disabled={!canSend}>
        {strings.send}
      </button>
      <p id={hintId} className="composer__hint">
        {strings.messageHint}
      </p>
    </form>
  );
}
