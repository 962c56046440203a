import { useCallback, useEffect, useRef, useState } from "react";
import { asApiError, ChatApi } from "./api";
import type { Me, SessionInfo } from "./contract";
import { browserLanguage, StringsContext, stringsFor } from "./i18n";
import { sessions, takeTokenFromAddress } from "./session";
import { SignIn } from "./sign-in";
import { Workspace } from "./workspace";

type Phase =
  | { phase: "checking" }
  | { phase: "signed-out"; notice: string | null }
  | { phase: "signed-in"; session: SessionInfo; api: ChatApi; me: Me };

/**
 * The whole app: resumes this browser's session, or signs in with a token (`initialToken`, from a
 * sign-in link, else typed), then shows the workspace until the person signs out or the session
 * ends.
 */
export function App({ initialToken }: { initialToken: string | null }) {
  const [state, setState] = useState<Phase>({ phase: "checking" });
  const strings = stringsFor(browserLanguage());
  const current = useRef<SessionInfo | null>(null);

  const enter = useCallback(
    async (open: () => Promise<SessionInfo | null>) => {
      try {
        const session = await open();
        if (!session) {
          setState({ phase: "signed-out", notice: null });
          return;
        }
        const api = new ChatApi(session.csrfToken);
        const me = await api.me();
        current.current = session;
        setState({ phase: "signed-in", session, api, me });
      } catch (error) {
        const failure = asApiError(error);
        const notice = failure.isUnauthorized
          ? strings.tokenRefused
          : failure.status === 0
            ? strings.unreachable
            : failure.message;
        setState({ phase: "signed-out", notice });
      }
    },
    [strings],
  );

  const signIn = useCallback((token: string) => enter(() => sessions.start(token)), [enter]);

  const signOut = useCallback((notice: string | null = null) => {
    const session = current.current;
    current.current = null;
    setState({ phase: "signed-out", notice });
    // The page is signed out at once; the server forgets the session as soon as it hears.
    if (session) void sessions.end(session).catch(() => {});
  }, []);

  useEffect(() => {
    void enter(() => (initialToken ? sessions.start(initialToken) : sessions.current()));
  }, [initialToken, enter]);

  // A sign-in link opened in a tab that already shows the app changes only the address's hash.
  useEffect(() => {
    const onHashChange = () => {
      const token = takeTokenFromAddress();
      if (token) void signIn(token);
    };
    window.addEventListener("hashchange", onHashChange);
    return () => window.removeEventListener("hashchange", onHashChange);
  }, [signIn]);

  if (state.phase === "signed-in") {
    return <Workspace api={state.api} me={state.me} onSignOut={signOut} />;
  }
  return (
    <StringsContext value={strings}>
      {state.phase === "checking" ? (
        <p className="loading" role="status">
          {strings.loading}
        </p>
      ) : (
        <SignIn notice={state.notice} onSignIn={signIn} />
      )}
    </StringsContext>
  );
}
