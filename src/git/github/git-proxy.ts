import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { pipeline } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { GitHttpRequest } from "../http-request.js";
import type { GithubForge } from "./github-forge.js";

/**
 * The request headers relayed to GitHub: what git needs for the smart protocol. The worker's own
 * `Authorization` is never among them; the forge's credential replaces it.
 */
const REQUEST_HEADERS = [
  "content-type",
  "content-encoding",
  "content-length",
  "accept",
  "git-protocol",
  "user-agent",
];
/** The response headers relayed back; GitHub's cookies and the like stay out. */
const RESPONSE_HEADERS = ["content-type", "content-encoding", "cache-control", "expires", "pragma"];

/**
 * Relays one authorized git smart-HTTP request to the project's repository on GitHub with the
 * forge's own credential, streaming the body both ways. The worker authenticated to us with its
 * short-lived API token; GitHub's token never leaves this process. GitHub refusing our credential
 * (401/403) becomes 502, so git does not ask the worker for other credentials; 404 stays 404.
 */
export function proxyGitToGithub(
  forge: GithubForge,
  git: GitHttpRequest,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const upstream = forge.gitUpstream(git.slug);
  const target = new URL(`${upstream.url}/${git.rest}${git.query ? `?${git.query}` : ""}`);
  const headers: Record<string, string> = {};
  for (const name of REQUEST_HEADERS) {
    const value = request.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  Object.assign(headers, upstream.headers);
  const log = request.log.child({ repo: git.slug, rest: git.rest });
  return new Promise<FastifyReply>((resolve) => {
    const fail = (status: number, text: string) => {
      if (reply.raw.headersSent) reply.raw.destroy();
      else resolve(reply.code(status).type("text/plain").send(text));
    };
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const outgoing = send(target, { method: request.method, headers }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 502;
      if (status === 401 || status === 403 || status === 404) {
        res.resume();
        if (status === 404) return fail(404, "not found\n");
        log.warn({ status }, "GitHub refused the forge's credential for git");
        return fail(502, "the forge refused the orchestrator's credential\n");
      }
      const relayed: Record<string, string> = {};
      for (const name of RESPONSE_HEADERS) {
        const value = res.headers[name];
        if (typeof value === "string") relayed[name] = value;
      }
      resolve(reply.code(status).headers(relayed).send(res));
    });
    outgoing.on("error", (error) => {
      log.warn({ err: error }, "git request to GitHub failed");
      fail(502, "the forge could not be reached\n");
    });
    const deadline = setTimeout(() => {
      outgoing.destroy(new Error(`git request to GitHub exceeded ${git.timeoutMs} ms`));
      reply.raw.destroy();
    }, git.timeoutMs);
    deadline.unref();
    reply.raw.on("close", () => {
      clearTimeout(deadline);
      // The client went away mid-transfer: stop GitHub's side too.
      if (!reply.raw.writableFinished) outgoing.destroy();
    });
    if (request.method === "POST") {
      pipeline(request.raw, outgoing, (error) => {
        if (error) log.warn({ err: error }, "git request body could not be relayed");
      });
    } else {
      outgoing.end();
    }
  });
}
