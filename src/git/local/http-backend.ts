import { type ChildProcessByStdio, spawn } from "node:child_process";
import { PassThrough, pipeline, type Readable, type Writable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { GitHttpRequest } from "../http-request.js";
import { readCgiHead } from "./cgi.js";
import { gitEnv } from "./git-command.js";

/** After the client went away (or the deadline passed), how long http-backend gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2_000;

/**
 * Serves one authorized request from the bare repositories under `root` through `git http-backend`
 * as CGI: the body streamed to its stdin (gunzipped when git compressed it), its answer streamed
 * back. Pushing is enabled exactly for a request authorized as a write.
 */
export async function serveWithHttpBackend(
  root: string,
  git: GitHttpRequest,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const child = spawn("git", ["http-backend"], {
    cwd: root,
    env: backendEnv(root, git, request),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    if (stderr.length < 8192) stderr += chunk.toString("utf8");
  });
  child.on("error", (error) => request.log.error({ err: error }, "git http-backend could not start"));
  supervise(child, reply, git.timeoutMs);
  feedBody(request, child.stdin, (error) => {
    if (error) request.log.warn({ err: error, repo: git.slug }, "git request body could not be streamed");
  });

  const head = await readCgiHead(child.stdout);
  if (!head) {
    child.kill("SIGKILL");
    request.log.error({ repo: git.slug, stderr: stderr.slice(-2000) }, "git http-backend gave no response");
    return reply.code(500).type("text/plain").send("git backend failed\n");
  }
  const body = new PassThrough();
  body.write(head.rest);
  pipeline(child.stdout, body, (error) => {
    if (error) request.log.warn({ err: error, repo: git.slug }, "git response stream broke");
  });
  return reply.code(head.status).headers(head.headers).send(body);
}

/** The CGI environment of one request (an allow-list: nothing of the API's own environment leaks). */
function backendEnv(root: string, git: GitHttpRequest, request: FastifyRequest): Record<string, string> {
  const env: Record<string, string> = {
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: `/${git.slug}.git/${git.rest}`,
    REQUEST_METHOD: request.method,
    QUERY_STRING: git.query,
    CONTENT_TYPE: request.headers["content-type"] ?? "",
    REMOTE_USER: "worker",
    REMOTE_ADDR: request.ip,
    // Pushing is allowed exactly when `authorize` said so for a write; command-scope config wins.
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.receivepack",
    GIT_CONFIG_VALUE_0: git.isWrite ? "true" : "false",
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
