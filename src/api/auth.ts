import type { FastifyReply, FastifyRequest } from "fastify";
import { principalForToken } from "../auth/index.js";
import { AppError } from "../contracts/index.js";
import type { Store } from "../store/index.js";
import type { Access } from "./context.js";

/** The token of an `Authorization: Bearer <token>` header, or "" without one. */
export function bearerOf(header: unknown): string {
  const match = typeof header === "string" ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1] ?? "";
}

/**
 * onRequest hook: every route is `admin` unless it declares otherwise, so a new route is closed
 * by default. Unknown paths are refused too, so a missing token learns nothing about routes.
 */
export function authenticate(store: Store) {
  // lastUsedAt is informational: write it at most once a minute per token, not on every request.
  const lastMarked = new Map<string, number>();
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    request.principal = null;
    const access: Access = request.routeOptions.config?.access ?? "admin";
    if (access === "public") return;
    const bearer = bearerOf(request.headers.authorization);
    const apiKey = request.routeOptions.config?.acceptsApiKeyHeader
      ? request.headers["x-api-key"]
      : undefined;
    const presented = bearer || (typeof apiKey === "string" ? apiKey.trim() : "");
    if (!presented) throw new AppError("unauthorized", "unauthorized", "a bearer token is required");
    const principal = await principalForToken(store, presented);
    if (!principal)
      throw new AppError("unauthorized", "unauthorized", "the bearer token is unknown or revoked");
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
