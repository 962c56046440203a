import { randomBytes } from "node:crypto";
import { AppError, type Principal, type WebSession } from "../contracts/index.js";
import type { Job } from "../scheduler/index.js";
import type { Store } from "../store/index.js";
import { hashToken, principalForToken, principalForTokenId } from "./tokens.js";

/** The cookie that carries a web session's secret (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = "orch_session";
/** The header every cookie-authenticated write carries, echoing the session's CSRF value. */
export const CSRF_HEADER = "x-csrf-token";

/** A session as a request sees it: the record, the principal it acts as, and its CSRF value. */
export interface LiveSession {
  session: WebSession;
  principal: Principal;
  csrfToken: string;
}

/**
 * Exchanges an admin or user token for a new session lasting `ttlMs`. Returns the cookie's secret
 * (to set once, never to log) with the session; a worker token or an unknown one is refused.
 */
export async function startSession(
  store: Store,
  token: string,
  ttlMs: number,
): Promise<LiveSession & { secret: string }> {
  const principal = await principalForToken(store, token.trim());
  if (!principal) throw new AppError("unauthorized", "unauthorized", "the token is unknown or revoked");
  if (principal.kind === "worker") {
    throw new AppError("forbidden", "worker_sign_in", "a worker token cannot sign in to the web app", {
      details: [{ path: "token", message: "use an admin or user token" }],
    });
  }
  const secret = randomBytes(32).toString("base64url");
  const csrfToken = randomBytes(24).toString("base64url");
  const session = await store.webSessions.create({
    secretHash: hashToken(secret),
    tokenId: principal.tokenId,
    csrfToken,
    ttlMs,
  });
  return { secret, session, principal, csrfToken };
}

/**
 * The live session a cookie's secret opens, or null: unknown, signed out, expired, or its token
 * revoked or its person barred since (the principal is read afresh on every request).
 */
export async function sessionForSecret(store: Store, secret: string): Promise<LiveSession | null> {
  if (!secret || secret.length > 200) return null;
  const found = await store.webSessions.findLive(hashToken(secret));
  if (!found) return null;
  const principal = await principalForTokenId(store, found.session.tokenId);
  if (!principal || principal.kind === "worker") return null;
  return { session: found.session, principal, csrfToken: found.csrfToken };
}

/** Ended sessions are kept this long (for a look at recent sign-ins), then deleted. */
const ENDED_KEPT_MS = 24 * 3_600_000;

/** The hourly removal of sessions that ended (expired or signed out) over a day ago: one process at a time. */
export function sessionCleanupJob(store: Store): Job {
  return {
    name: "web-sessions.cleanup",
    intervalMs: 3_600_000,
    scope: "leader",
    runAtStart: true,
    run: async () => {
      await store.webSessions.deleteEnded(ENDED_KEPT_MS);
    },
  };
}
