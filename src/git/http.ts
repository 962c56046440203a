import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { RepositorySlug } from "./forge.js";
import { proxyGitToGithub } from "./github/git-proxy.js";
import type { GithubForge } from "./github/github-forge.js";
import type { GitHttpRequest } from "./http-request.js";
import { serveWithHttpBackend } from "./local/http-backend.js";
import type { LocalForge } from "./local/local-forge.js";

/** Default bound on one git request (a clone or push of a project repository is far shorter). */
export const GIT_REQUEST_TIMEOUT_MS = 10 * 60_000;
/** The realm git shows when it asks for credentials. */
const REALM = "orchestrator";

/**
 * A forge whose repositories the API serves to workers at `/git/<slug>.git`: the local forge from
 * its bare repositories, the GitHub forge by relaying to GitHub with its own token, so a worker
 * only ever holds its own short-lived API token, whichever forge holds the code.
 */
export type ServedForge = LocalForge | GithubForge;

/** What the git HTTP endpoint needs: the forge whose repositories it serves, and who may do what. */
export interface GitHttpOptions {
  forge: ServedForge;
  /**
   * Whether `token` may read (`write: false`: clone, fetch) or push to (`write: true`) the
   * repository named `repoName` (the slug). The API decides: a worker token reaches its own
   * project's repository only.
   */
  authorize(token: string, repoName: string, write: boolean): Promise<boolean>;
  /** A request still running after this is cut off (and its http-backend or upstream call ended). */
  requestTimeoutMs?: number;
}

/** The smart-protocol paths under `/git/<name>.git/`; the dumb protocol is not served. */
const SMART_PATHS = new Set(["info/refs", "git-upload-pack", "git-receive-pack"]);

/**
 * Mounts git smart HTTP at `/git/<slug>.git/*`: HTTP Basic auth (git sends `x-access-token:<token>`)
 * checked by `authorize`, then the request goes to the forge: `git http-backend` for the local one,
 * a relay to GitHub for the GitHub one; bodies are streamed both ways. Routes are `access: "public"`
 * so the API's bearer hook lets them through: they do their own auth. The raw body parser for
 * `application/x-git-*` stays inside this plugin.
 */
export async function registerGitHttp(app: FastifyInstance, opts: GitHttpOptions): Promise<void> {
  await app.register(async (scope) => {
    // Leave the body unread: the handler streams `request.raw` on itself.
    scope.addContentTypeParser(/^application\/x-git-/, (_request, _payload, done) => {
      done(null, undefined);
    });
    scope.route({
      method: ["GET", "POST"],
      url: "/git/:repo/*",
      config: { access: "public" },
      handler: (request, reply) => serveGit(opts, request, reply),
    });
  });
}

async function serveGit(opts: GitHttpOptions, request: FastifyRequest, reply: FastifyReply) {
  const params = request.params as { repo: string; "*": string };
  const name = /^(.+)\.git$/.exec(params.repo)?.[1] ?? "";
  const rest = params["*"];
  const query = request.raw.url?.split("?")[1] ?? "";
  const service = new URLSearchParams(query).get("service");
  if (!RepositorySlug.safeParse(name).success || !SMART_PATHS.has(rest)) {
    return reply.code(404).type("text/plain").send("not found\n");
  }
  const isWrite = rest === "git-receive-pack" || (rest === "info/refs" && service === "git-receive-pack");

  const token = basicAuthToken(request.headers.authorization);
  if (!token) return challenge(reply);
  if (!(await opts.authorize(token, name, isWrite))) {
    // A token that may read but not push learns that it is refused, not that it is unknown.
    if (isWrite && (await opts.authorize(token, name, false))) {
      return reply.code(403).type("text/plain").send("push is not allowed with this token\n");
    }
    return challenge(reply);
  }
  const git: GitHttpRequest = {
    slug: name,
    rest,
    query,
    isWrite,
    timeoutMs: opts.requestTimeoutMs ?? GIT_REQUEST_TIMEOUT_MS,
  };
  if (opts.forge.kind === "github") return proxyGitToGithub(opts.forge, git, request, reply);
  if (!(await opts.forge.exists(name))) return reply.code(404).type("text/plain").send("not found\n");
  return serveWithHttpBackend(opts.forge.root, git, request, reply);
}

/** The token of an HTTP Basic `Authorization` header (the password part), or `null`. */
export function basicAuthToken(header: string | undefined): string | null {
  const match = typeof header === "string" ? /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim()) : null;
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const password = colon >= 0 ? decoded.slice(colon + 1) : "";
  return password || null;
}

function challenge(reply: FastifyReply) {
  return reply
    .code(401)
    .header("www-authenticate", `Basic realm="${REALM}"`)
    .type("text/plain")
    .send("authentication required\n");
}
