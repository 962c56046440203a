import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { CSRF_HEADER, principalForToken, SESSION_COOKIE, sessionForSecret } from "../auth/index.js";
import { AppError, type Principal } from "../contracts/index.js";
import type { Store } from "../store/index.js";
import type { Access } from "./context.js";

/** The token of an `Authorization: Bearer <token>` header, or "" without one. */
export function bearerOf(header: unknown): string {
  const match = typeof header === "string" ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1] ?? "";
}

/** Methods that change nothing: a session's cookie alone is enough for them. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The session cookie's secret in a request, or "" without one. */
export function sessionSecretOf(request: FastifyRequest): string {
  const header = request.headers.cookie;
  if (!header) return "";
  return request.server.parseCookie(header)[SESSION_COOKIE] ?? "";
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * onRequest hook: every route is `admin` unless it declares otherwise, so a new route is closed
 * by default. Unknown paths are refused too, so a missing token learns nothing about routes.
 * A bearer token wins; without one the web app's session cookie counts, and then every write must
 * echo the session's CSRF value in `x-csrf-token` (SameSite=Strict already keeps other sites'
 * requests cookieless; this holds even where a browser does not honour it).
 */
export function authenticate(store: Store) {
  // lastUsedAt is informational: write it at most once a minute per token, not on every request.
  const lastMarked = new Map<string, number>();
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    request.principal = null;
    const access: Access = request.routeOptions.config?.access ?? "admin";
    if (access === "public") return;
    const principal = await principalOf(store, request);
    if (access === "admin" && principal.kind !== "admin") {
      throw new AppError("forbidden", "forbidden", "this route needs an admin token");
    }
    request.principal = principal;
    const now = Date.now();
    if (now - (lastMarked.get(principal.tokenId) ?? 0) > 60_000) {
      lastMarked.set(principal.tokenId, now);
      await store.apiTokens.markUsed(principal.tokenId);
    }
  };
}

async function principalOf(store: Store, request: FastifyRequest): Promise<Principal> {
  const bearer = bearerOf(request.headers.authorization);
  const apiKey = request.routeOptions.config?.acceptsApiKeyHeader ? request.headers["x-api-key"] : undefined;
  const presented = bearer || (typeof apiKey === "string" ? apiKey.trim() : "");
  if (presented) {
    const principal = await principalForToken(store, presented);
    if (!principal)
      throw new AppError("unauthorized", "unauthorized", "the bearer token is unknown or revoked");
    return principal;
  }
  const secret = sessionSecretOf(request);
  if (!secret) throw new AppError("unauthorized", "unauthorized", "a bearer token is required");
  const live = await sessionForSecret(store, secret);
  if (!live) throw new AppError("unauthorized", "unauthorized", "the session has ended: sign in again");
  if (!SAFE_METHODS.has(request.method)) {
    const echoed = request.headers[CSRF_HEADER];
    if (typeof echoed !== "string" || !sameText(echoed, live.csrfToken)) {
      throw new AppError(
        "forbidden",
        "csrf_failed",
        `a write with the session cookie needs the ${CSRF_HEADER} header`,
      );
    }
  }
  request.webSession = { session: live.session, csrfToken: live.csrfToken };
  return live.principal;
}
