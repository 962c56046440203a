/** Where the token is kept between visits (this browser only). */
const TOKEN_KEY = "orchestrator.token";

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

export function loadToken(): string | null {
  try {
    return window.localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  try {
    window.localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage can be off (private mode): the session then lasts as long as the page.
  }
}

export function forgetToken(): void {
  try {
    window.localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Nothing was kept.
  }
}
