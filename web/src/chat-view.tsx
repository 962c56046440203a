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
  /** A run's outcome arrived (live, failed, blocked): the person's projects have changed. */
  onOutcome(): void;
  onError(error: ApiError): void;
}

/** One conversation: its messages as they arrive, its language, and the message box. */
export function ChatView({ api, conversation, onConversation, onState, onOutcome, onError }: ChatViewProps) {
  const strings = useStrings();
  const { messages, isConnected, isAnswerDue, awaitedSecrets, add } = useConversationFeed(
    api,
    conversation.id,
    {
      onState,
      onOutcome,
      onError,
    },
  );
  const [isSending, setSending] = useState(false);
  const listRef = useRef<HTMLOListElement>(null);
  // From the moment the person sends until their answer comes, however fast the server is.
  const isWorking = isSending || isAnswerDue || conversation.state === "processing";

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
      <ChatHeader
        title={conversation.title || strings.untitled}
        language={conversation.language}
        onLanguage={(language) => void changeLanguage(language)}
      />
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
      <WorkingStatus isWorking={isWorking} />
      {awaitedSecrets[0] !== undefined && (
        <SecretField
          key={awaitedSecrets[0]}
          name={awaitedSecrets[0]}
          onSave={(value) => api.fillSecret(conversation.id, awaitedSecrets[0] as string, value)}
          onError={onError}
        />
      )}
      <Composer
        onSend={async (text) => {
          setSending(true);
          try {
            add(await api.send(conversation.id, text));
          } finally {
            setSending(false);
          }
        }}
        onError={onError}
      />
    </section>
  );
}

export interface FirstMessageProps {
  /** The language the conversation will have; the person may pick another before writing. */
  language: Language;
  onLanguage(language: Language): void;
  /** Starts the conversation with this first message; a failure leaves the text in the box. */
  onSend(text: string): Promise<void>;
  onError(error: ApiError): void;
}

/**
 * The chat of a person who has no conversation yet: they write at once, and their first message
 * starts the conversation (no empty conversation is made just by opening the page).
 */
export function FirstMessage({ language, onLanguage, onSend, onError }: FirstMessageProps) {
  const strings = useStrings();
  const [isSending, setSending] = useState(false);
  return (
    <section className="chat" aria-label={strings.untitled}>
      <ChatHeader title={strings.untitled} language={language} onLanguage={onLanguage} />
      <p className="chat__empty">{strings.noMessages}</p>
      <ol className="chat__messages" aria-label={strings.messages} />
      <WorkingStatus isWorking={isSending} />
      <Composer
        onSend={async (text) => {
          setSending(true);
          try {
            await onSend(text);
          } finally {
            setSending(false);
          }
        }}
        onError={onError}
      />
    </section>
  );
}

/**
 * The masked field for a secret the PO asked for: typed hidden, sent to the vault on its own route,
 * never into the message box or the transcript. Cleared once sent, whatever the answer.
 */
function SecretField({
  name,
  onSave,
  onError,
}: {
  name: string;
  onSave(value: string): Promise<unknown>;
  onError(error: ApiError): void;
}) {
  const strings = useStrings();
  const [value, setValue] = useState("");
  const [isSaving, setSaving] = useState(false);
  const inputId = useId();
  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (value.trim() === "" || isSaving) return;
    setSaving(true);
    try {
      await onSave(value.trim());
    } catch (error) {
      onError(asApiError(error));
    } finally {
      setValue("");
      setSaving(false);
    }
  };
  return (
    <form className="secret-field" data-testid="secret-field" onSubmit={(event) => void save(event)}>
      <label htmlFor={inputId}>{strings.secretLabel.replace("{{key}}", name)}</label>
      <input
        id={inputId}
        type="password"
        autoComplete="off"
        spellCheck={false}
        value={value}
        onChange={(event) => setValue(event.target.value)}
      />
      <button type="submit" disabled={value.trim() === "" || isSaving}>
        {strings.secretSave}
      </button>
    </form>
  );
}

/** Says the system is working on the person's message (announced to screen readers too). */
function WorkingStatus({ isWorking }: { isWorking: boolean }) {
  const strings = useStrings();
  return (
    <div className="chat__status" role="status">
      {isWorking && (
        <span className="working" data-testid="working-indicator">
          {strings.working}
        </span>
      )}
    </div>
  );
}

/** A conversation's title and its language picker. */
function ChatHeader({
  title,
  language,
  onLanguage,
}: {
  title: string;
  language: Language;
  onLanguage(language: Language): void;
}) {
  const strings = useStrings();
  const languageId = useId();
  return (
    <header className="chat__header">
      <h2>{title}</h2>
      <label htmlFor={languageId}>{strings.language}</label>
      <select
        id={languageId}
        data-testid="language-select"
        value={language}
        onChange={(event) => onLanguage(event.target.value as Language)}
      >
        {LANGUAGES.map((option) => (
          <option key={option} value={option} lang={option}>
            {LANGUAGE_NAMES[option]}
          </option>
        ))}
      </select>
    </header>
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
