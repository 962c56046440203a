import { ApiError, asApiError } from "./api";
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
    return call<SessionInfo>(baseUrl, "POST", "/api/session", { token });
  },
  /** The session this browser already has, or null when there is none (or it ended). */
  async current(baseUrl = ""): Promise<SessionInfo | null> {
    try {
      return await call<SessionInfo>(baseUrl, "GET", "/api/session");
    } catch (error) {
      if (asApiError(error).isUnauthorized) return null;
      throw error;
    }
  },
  /** Ends the session; one that already ended counts as ended. */
  async end(session: SessionInfo, baseUrl = ""): Promise<void> {
    try {
      await call<void>(baseUrl, "DELETE", "/api/session", undefined, session.csrfToken);
    } catch (error) {
      if (!asApiError(error).isUnauthorized) throw error;
    }
  },
};

async function call<T>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  csrf?: string,
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (csrf) headers["x-csrf-token"] = csrf;
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      credentials: "same-origin",
      cache: "no-store",
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw asApiError(error);
  }
  if (!response.ok) throw await ApiError.from(response);
  return (response.status === 204 ? undefined : await response.json()) as T;
}
