import { useCallback, useEffect, useState } from "react";
import { asApiError, ChatApi } from "./api";
import type { Me } from "./contract";
import { browserLanguage, StringsContext, stringsFor } from "./i18n";
import { forgetToken, saveToken, takeTokenFromAddress } from "./session";
import { SignIn } from "./sign-in";
import { Workspace } from "./workspace";

type Session =
  | { phase: "checking" }
  | { phase: "signed-out"; notice: string | null }
  | { phase: "signed-in"; api: ChatApi; me: Me };

/**
 * The whole app: signs the person in with a token (`initialToken`, from the address or the last
 * visit, else typed), then shows their workspace until they sign out or the token is refused.
 */
export function App({ initialToken }: { initialToken: string | null }) {
  const [session, setSession] = useState<Session>(
    initialToken ? { phase: "checking" } : { phase: "signed-out", notice: null },
  );
  const strings = stringsFor(browserLanguage());

  const signIn = useCallback(
    async (token: string) => {
      const api = new ChatApi(token);
      try {
        const me = await api.me();
        saveToken(token);
        setSession({ phase: "signed-in", api, me });
      } catch (error) {
        const failure = asApiError(error);
        if (failure.isUnauthorized) forgetToken();
        const notice = failure.isUnauthorized
          ? strings.tokenRefused
          : failure.status === 0
            ? strings.unreachable
            : failure.message;
        setSession({ phase: "signed-out", notice });
      }
    },
    [strings],
  );

  const signOut = useCallback((notice: string | null = null) => {
    forgetToken();
    setSession({ phase: "signed-out", notice });
  }, []);

  useEffect(() => {
    if (initialToken) void signIn(initialToken);
  }, [initialToken, signIn]);

  // A sign-in link opened in a tab that already shows the app changes only the address's hash.
  useEffect(() => {
    const onHashChange = () => {
      const token = takeTokenFromAddress();
      if (token) void signIn(token);
    };
    window.addEventListener("hashchange", onHashChange);
    return () => window.removeEventListener("hashchange", onHashChange);
  }, [signIn]);

  if (session.phase === "signed-in") {
    return <Workspace api={session.api} me={session.me} onSignOut={signOut} />;
  }
  return (
    <StringsContext value={strings}>
      {session.phase === "checking" ? (
        <p className="loading" role="status">
          {strings.loading}
        </p>
      ) : (
        <SignIn notice={session.notice} onSignIn={signIn} />
      )}
    </StringsContext>
  );
}
