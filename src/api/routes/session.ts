import type { FastifyReply, FastifyRequest } from "fastify";
import { SESSION_COOKIE, startSession } from "../../auth/index.js";
import { AppError, type Principal, SessionView, SignIn, type WebSession } from "../../contracts/index.js";
import type { Store } from "../../store/index.js";
import type { Api, ApiDeps } from "../context.js";

/** Twelve hours, as `WEB_SESSION_TTL`'s default, for an API built without settings (tests). */
const DEFAULT_TTL_MS = 12 * 3_600_000;

/**
 * Signing in to the web app: a token is exchanged for a session cookie (HttpOnly, SameSite=Strict,
 * expiring with the session), the session is read back with its CSRF value, and signing out ends
 * it. The token itself is never stored in the browser.
 */
export function registerSessionRoutes(app: Api, deps: ApiDeps): void {
  const defaultTtlMs = deps.web?.sessionTtlMs ?? DEFAULT_TTL_MS;
  const secureSetting = deps.web?.cookieSecure ?? "auto";
  const isSecure = (request: FastifyRequest) =>
    secureSetting === "always" || (secureSetting === "auto" && request.protocol === "https");

  app.post(
    "/api/session",
    {
      config: { access: "public" },
      schema: { tags: ["session"], body: SignIn, response: { 201: SessionView } },
    },
    async (req, reply) => {
      // An admin may have changed the length on the Settings page; each new sign-in reads it.
      const ttlMs = (await deps.store.settings.get("webSessionTtlMs")) ?? defaultTtlMs;
      const started = await startSession(deps.store, req.body.token, ttlMs);
      reply.setCookie(SESSION_COOKIE, started.secret, {
        httpOnly: true,
        sameSite: "strict",
        path: "/",
        secure: isSecure(req),
        maxAge: Math.floor(ttlMs / 1000),
      });
      return reply
        .code(201)
        .send(await viewOf(deps.store, started.principal, started.session, started.csrfToken));
    },
  );

  app.get(
    "/api/session",
    { config: { access: "token" }, schema: { tags: ["session"], response: { 200: SessionView } } },
    async (req) => {
      const { session, csrfToken } = sessionOf(req);
      if (!req.principal) throw ended();
      return viewOf(deps.store, req.principal, session, csrfToken);
    },
  );

  app.delete(
    "/api/session",
    { config: { access: "token" }, schema: { tags: ["session"] } },
    async (req, reply) => {
      await deps.store.webSessions.revoke(sessionOf(req).session.id);
      clearCookie(reply, isSecure(req));
      return reply.code(204).send();
    },
  );
}

function clearCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: "strict", path: "/", secure });
}

function ended(): AppError {
  return new AppError("unauthorized", "unauthorized", "no web session: sign in with a token");
}

/** The session a request came with (the routes here are about sessions, not bearer tokens). */
function sessionOf(request: FastifyRequest): { session: WebSession; csrfToken: string } {
  if (!request.webSession) throw ended();
  return request.webSession;
}

async function viewOf(
  store: Store,
  principal: Principal,
  session: WebSession,
  csrfToken: string,
): Promise<SessionView> {
  if (principal.kind === "user") {
    const user = await store.users.get(principal.userId);
    return {
      kind: "user",
      user: { id: user.id, name: user.name, role: user.role },
      expiresAt: session.expiresAt,
      csrfToken,
    };
  }
  return { kind: "admin", user: null, expiresAt: session.expiresAt, csrfToken };
}
