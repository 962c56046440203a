import { type ChildProcessByStdio, spawn } from "node:child_process";
import { PassThrough, pipeline, type Readable, type Writable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { RepositorySlug } from "../forge.js";
import { readCgiHead } from "./cgi.js";
import { gitEnv } from "./git-command.js";
import type { LocalForge } from "./local-forge.js";

/** After the client went away (or the deadline passed), how long http-backend gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** Default bound on one git request (a clone or push of a project repository is far shorter). */
export const GIT_REQUEST_TIMEOUT_MS = 10 * 60_000;
/** The realm git shows when it asks for credentials. */
const REALM = "orchestrator";

/** What the git HTTP endpoint needs: the forge whose repositories it serves, and who may do what. */
export interface GitHttpOptions {
  forge: LocalForge;
  /**
   * Whether `token` may read (`write: false`: clone, fetch) or push to (`write: true`) the
   * repository named `repoName` (the slug). The API decides: a worker token reaches its own
   * project's repository only.
   */
  authorize(token: string, repoName: string, write: boolean): Promise<boolean>;
  /** A request still running after this is cut off and its http-backend killed. */
  requestTimeoutMs?: number;
}

/** The smart-protocol paths under `/git/<name>.git/`; the dumb protocol is not served. */
const SMART_PATHS = new Set(["info/refs", "git-upload-pack", "git-receive-pack"]);

/**
 * Mounts git smart HTTP at `/git/<slug>.git/*`: HTTP Basic auth (git sends `x-access-token:<token>`)
 * checked by `authorize`, then the request is handed to `git http-backend` as CGI, bodies streamed
 * both ways. Routes are `access: "public"` so the API's bearer hook lets them through: they do
 * their own auth. The raw body parser for `application/x-git-*` stays inside this plugin.
 */
export async function registerGitHttp(app: FastifyInstance, opts: GitHttpOptions): Promise<void> {
  await app.register(async (scope) => {
    // Leave the body unread: the handler streams `request.raw` to http-backend itself.
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
  if (!(await opts.forge.exists(name))) return reply.code(404).type("text/plain").send("not found\n");

  const child = spawn("git", ["http-backend"], {
    cwd: opts.forge.root,
    env: backendEnv(opts.forge.root, name, rest, request, query, isWrite),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    if (stderr.length < 8192) stderr += chunk.toString("utf8");
  });
  child.on("error", (error) => request.log.error({ err: error }, "git http-backend could not start"));
  supervise(child, reply, opts.requestTimeoutMs ?? GIT_REQUEST_TIMEOUT_MS);
  feedBody(request, child.stdin, (error) => {
    if (error) request.log.warn({ err: error, repo: name }, "git request body could not be streamed");
  });

  const head = await readCgiHead(child.stdout);
  if (!head) {
    child.kill("SIGKILL");
    request.log.error({ repo: name, stderr: stderr.slice(-2000) }, "git http-backend gave no response");
    return reply.code(500).type("text/plain").send("git backend failed\n");
  }
  const body = new PassThrough();
  body.write(head.rest);
  pipeline(child.stdout, body, (error) => {
    if (error) request.log.warn({ err: error, repo: name }, "git response stream broke");
  });
  return reply.code(head.status).headers(head.headers).send(body);
}

/** The CGI environment of one request (an allow-list: nothing of the API's own environment leaks). */
function backendEnv(
  root: string,
  name: string,
  rest: string,
  request: FastifyRequest,
  query: string,
  isWrite: boolean,
): Record<string, string> {
  const env: Record<string, string> = {
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: `/${name}.git/${rest}`,
    REQUEST_METHOD: request.method,
    QUERY_STRING: query,
    CONTENT_TYPE: request.headers["content-type"] ?? "",
    REMOTE_USER: "worker",
    REMOTE_ADDR: request.ip,
    // Pushing is allowed exactly when `authorize` said so for a write; command-scope config wins.
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.receivepack",
    GIT_CONFIG_VALUE_0: isWrite ? "true" : "false",
  };
  const protocol = request.headers["git-protocol"];
  if (typeof protocol === "string" && /^[\w=:.,-]+$/.test(protocol)) env.HTTP_GIT_PROTOCOL = protocol;
  return gitEnv(env);
}

/** Streams the request body (gunzipped when git compressed it) to http-backend's stdin. */
function feedBody(request: FastifyRequest, stdin: Writable, done: (error: Error | null) => void): void {
  if (request.method !== "POST") {
    stdin.end();
    done(null);
    return;
  }
  const encoding = request.headers["content-encoding"];
  const callback = (error: Error | null) => done(error ?? null);
  if (encoding === "gzip" || encoding === "x-gzip") pipeline(request.raw, createGunzip(), stdin, callback);
  else pipeline(request.raw, stdin, callback);
}

/**
 * Kills http-backend when the response closes before it finished (client gone, broken pipe) or
 * when the request overruns its deadline: SIGTERM, then SIGKILL after a grace period.
 */
function supervise(
  child: ChildProcessByStdio<Writable, Readable, Readable>,
  reply: FastifyReply,
  timeoutMs: number,
): void {
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  const stop = () => {
    if (!isRunning()) return;
    child.kill("SIGTERM");
    setTimeout(() => {
      if (isRunning()) child.kill("SIGKILL");
    }, KILL_GRACE_MS).unref();
  };
  const deadline = setTimeout(() => {
    stop();
    reply.raw.destroy();
  }, timeoutMs);
  deadline.unref();
  child.on("close", () => clearTimeout(deadline));
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) stop();
  });
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
