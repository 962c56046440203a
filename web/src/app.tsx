import { lazy, Suspense, useCallback, useEffect, useRef, useState } from "react";
import { useLocation } from "wouter";
import { AdminOnly } from "./admin/admin-only";
import { asApiError, ChatApi } from "./api";
import type { Me, SessionInfo } from "./contract";
import { browserLanguage, StringsContext, stringsFor } from "./i18n";
import { sessions, takeTokenFromAddress } from "./session";
import { SignIn } from "./sign-in";
import { Workspace } from "./workspace";

// The admin pages are a chunk of their own: a person using the chat never downloads them.
const AdminApp = lazy(() => import("./admin/admin-app").then((module) => ({ default: module.AdminApp })));

/** Addresses of the admin area (the API serves the same app there). */
function isAdminPath(path: string): boolean {
  return path === "/admin" || path.startsWith("/admin/");
}

type Phase =
  | { phase: "checking" }
  | { phase: "signed-out"; notice: string | null }
  | { phase: "signed-in"; session: SessionInfo; api: ChatApi; me: Me | null };

/**
 * The whole app: resumes this browser's session, or signs in with a token (`initialToken`, from a
 * sign-in link, else typed), then shows the workspace until the person signs out or the session
 * ends.
 */
export function App({ initialToken }: { initialToken: string | null }) {
  const [state, setState] = useState<Phase>({ phase: "checking" });
  const strings = stringsFor(browserLanguage());
  const current = useRef<SessionInfo | null>(null);
  const [location] = useLocation();

  const enter = useCallback(
    async (open: () => Promise<SessionInfo | null>) => {
      try {
        const session = await open();
        if (!session) {
          setState({ phase: "signed-out", notice: null });
          return;
        }
        const api = new ChatApi(session.csrfToken);
        // The admin pages need no chat profile; the chat reads it before it shows anything.
        const me = isAdminPath(window.location.pathname) ? null : await api.me();
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

  // Signed in on an admin page, then gone to the chat: its profile is read now.
  const needsProfile = state.phase === "signed-in" && state.me === null && !isAdminPath(location);
  useEffect(() => {
    if (!needsProfile || state.phase !== "signed-in") return;
    const { api, session } = state;
    api.me().then(
      (me) =>
        setState((now) => (now.phase === "signed-in" && now.session === session ? { ...now, me } : now)),
      (error: unknown) => setState({ phase: "signed-out", notice: asApiError(error).message }),
    );
  }, [needsProfile, state]);

  if (state.phase === "signed-in") {
    if (isAdminPath(location)) {
      return state.session.kind === "admin" ? (
        <Suspense
          fallback={
            <p className="loading" role="status">
              Loading…
            </p>
          }
        >
          <AdminApp
            session={state.session}
            onSignOut={() => signOut(null)}
            onSessionEnded={() => signOut(strings.sessionEnded)}
          />
        </Suspense>
      ) : (
        <AdminOnly />
      );
    }
    if (state.me) {
      return (
        <Workspace
          api={state.api}
          me={state.me}
          isAdmin={state.session.kind === "admin"}
          onSignOut={signOut}
        />
      );
    }
  }
  return (
    <StringsContext value={strings}>
      {state.phase === "signed-out" ? (
        <SignIn notice={state.notice} onSignIn={signIn} />
      ) : (
        <p className="loading" role="status">
          {strings.loading}
        </p>
      )}
    </StringsContext>
  );
}
