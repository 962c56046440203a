import { apiRequest, asApiError } from "./api";
import type { SessionInfo } from "./contract";

/**
 * A token handed over in the address (`#token=...`, e.g. from a sign-in link), removed from the
 * address bar at once so it is neither bookmarked nor left in history; null when there is none.
 */
export function takeTokenFromAddress(): string | null {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  const token = params.get("token")?.trim();
  if (!token) return null;
  params.delete("token");
  const rest = params.toString();
  const { pathname, search } = window.location;
  window.history.replaceState(window.history.state, "", `${pathname}${search}${rest ? `#${rest}` : ""}`);
  return token;
}

/**
 * Signing in and out of the web app. The token is exchanged once for a session cookie the page
 * cannot read (HttpOnly); the browser keeps nothing else, and every write echoes the session's
 * CSRF value.
 */
export const sessions = {
  /** Exchanges a token for a session. */
  start(token: string, baseUrl = ""): Promise<SessionInfo> {
    return apiRequest<SessionInfo>("POST", `${baseUrl}/api/session`, { body: { token } });
  },
  /** The session this browser already has, or null when there is none (or it ended). */
  async current(baseUrl = ""): Promise<SessionInfo | null> {
    try {
      return await apiRequest<SessionInfo>("GET", `${baseUrl}/api/session`);
    } catch (error) {
      if (asApiError(error).isUnauthorized) return null;
      throw error;
    }
  },
  /** Ends the session; one that already ended counts as ended. */
  async end(session: SessionInfo, baseUrl = ""): Promise<void> {
    try {
      await apiRequest<void>("DELETE", `${baseUrl}/api/session`, { csrfToken: session.csrfToken });
    } catch (error) {
      if (!asApiError(error).isUnauthorized) throw error;
    }
  },
};
