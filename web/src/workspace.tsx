import { useCallback, useEffect, useRef, useState } from "react";
import { type ApiError, asApiError, type ChatApi } from "./api";
import { ChatView, FirstMessage } from "./chat-view";
import type { Conversation, ConversationState, Language, Me, Project } from "./contract";
import { StringsContext, stringsFor, useStrings } from "./i18n";
import { newestFirst } from "./messages";
import { Sidebar } from "./sidebar";

export interface WorkspaceProps {
  api: ChatApi;
  me: Me;
  /** Leave the workspace; `notice` is shown on the sign-in form (why the person is back there). */
  onSignOut(notice?: string | null): void;
  /** An admin also gets a link to the admin pages. */
  isAdmin?: boolean;
}

/**
 * What a signed-in person sees: their conversations and projects beside the open conversation.
 * The strings follow the open conversation's language (the person's own before one is open).
 */
export function Workspace({ api, me, onSignOut, isAdmin = false }: WorkspaceProps) {
  const [conversations, setConversations] = useState<Conversation[] | null>(null);
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [activeId, setActiveId] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  // The language of the conversation a newcomer's first message will start.
  const [firstLanguage, setFirstLanguage] = useState<Language>(me.language);
  // The conversation a first message started, kept so a failed send is retried into it.
  const started = useRef<Conversation | null>(null);
  const active = conversations?.find((conversation) => conversation.id === activeId) ?? null;
  const language = active?.language ?? firstLanguage;
  const strings = stringsFor(language);

  useEffect(() => {
    document.documentElement.lang = language;
    document.title = strings.appTitle;
  }, [language, strings]);

  const fail = useCallback(
    (failure: ApiError) => {
      if (failure.isUnauthorized) onSignOut(stringsFor(me.language).sessionEnded);
      else setError(failure);
    },
    [me.language, onSignOut],
  );

  /** Reloads the lists (after a turn ends, titles and projects may have changed). */
  const refresh = useCallback(async () => {
    try {
      const [list, owned] = await Promise.all([api.conversations(), api.projects()]);
      setConversations(newestFirst(list));
      setProjects(owned);
      setActiveId((id) => id ?? newestFirst(list)[0]?.id ?? null);
    } catch (failure) {
      fail(asApiError(failure));
    }
  }, [api, fail]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const replace = (updated: Conversation) =>
    setConversations((list) =>
      newestFirst([updated, ...(list ?? []).filter((conversation) => conversation.id !== updated.id)]),
    );

  const create = async () => {
    try {
      const conversation = await api.createConversation(language);
      replace(conversation);
      setActiveId(conversation.id);
    } catch (failure) {
      fail(asApiError(failure));
    }
  };

  /** A newcomer's first message: the conversation is made for it, then it is sent and opened. */
  const startWith = async (text: string) => {
    started.current ??= await api.createConversation(firstLanguage);
    const conversation = started.current;
    await api.send(conversation.id, text);
    started.current = null;
    replace(conversation);
    setActiveId(conversation.id);
  };

  const onState = (id: string, state: ConversationState) => {
    setConversations((list) => list?.map((c) => (c.id === id ? { ...c, state } : c)) ?? list);
    if (state !== "processing") void refresh();
  };

  return (
    <StringsContext value={strings}>
      <div className="workspace">
        <header className="topbar">
          <h1>{strings.appTitle}</h1>
          <p className="topbar__who">{strings.signedInAs(me.user.name)}</p>
          {isAdmin && (
            <a className="topbar__admin" href="/admin">
              {strings.adminPages}
            </a>
          )}
          <button type="button" onClick={() => onSignOut(null)}>
            {strings.signOut}
          </button>
        </header>
        {me.model.scripted && (
          <p className="banner" role="note" data-testid="demo-banner">
            {strings.demoBanner}
          </p>
        )}
        {error && <ErrorAlert error={error} onDismiss={() => setError(null)} />}
        <div className="workspace__body">
          <Sidebar
            conversations={conversations}
            activeId={activeId}
            projects={projects}
            onSelect={setActiveId}
            onCreate={() => void create()}
          />
          <main className="workspace__main">
            {active ? (
              <ChatView
                key={active.id}
                api={api}
                conversation={active}
                onConversation={replace}
                onState={(state) => onState(active.id, state)}
                onOutcome={() => void refresh()}
                onError={fail}
              />
            ) : conversations?.length === 0 ? (
              <FirstMessage
                language={firstLanguage}
                onLanguage={setFirstLanguage}
                onSend={startWith}
                onError={fail}
              />
            ) : (
              <p className="workspace__placeholder">{strings.chooseConversation}</p>
            )}
          </main>
        </div>
      </div>
    </StringsContext>
  );
}

/** An error from the API as it was said: its message and, when given, which input was wrong. */
function ErrorAlert({ error, onDismiss }: { error: ApiError; onDismiss(): void }) {
  const strings = useStrings();
  return (
    <div className="alert" role="alert" data-testid="error">
      <p>
        <strong>{strings.errorTitle}:</strong> {error.status === 0 ? strings.unreachable : error.message}
      </p>
      {error.details.length > 0 && (
        <ul>
          {error.details.map((detail, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list from one answer
            <li key={index}>{[detail.path, detail.message].filter(Boolean).join(": ")}</li>
          ))}
        </ul>
      )}
      <button type="button" onClick={onDismiss}>
        {strings.dismiss}
      </button>
    </div>
  );
}
