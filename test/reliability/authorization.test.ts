/**
 * The authorization matrix: every route of the real API (from Fastify's route table, so a new one
 * cannot be left out) and every tool, called with no token, a worker token of another project, a
 * person's user token and an admin's token. A declarative policy below says who may do what; the
 * suite asserts exactly that, and fails when the policy misses a route or a tool (or names one
 * that is gone).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listRoutes, type RouteEntry } from "../../src/api/index.js";
import { createToolRegistry } from "../../src/tools/index.js";
import { type ReliabilityApp, startReliabilityApp } from "../support/reliability-app.js";
import { Failures } from "./answers.js";
import { tally } from "./tally.js";

type Caller = "none" | "worker" | "user" | "admin";
const CALLERS: readonly Caller[] = ["none", "worker", "user", "admin"];
/** allow: past authorization; deny: 401 or 403; hidden: 404, the same answer as a missing project. */
type Outcome = "allow" | "deny" | "hidden";
type Policy = Record<Caller, Outcome>;

const PUBLIC: Policy = { none: "allow", worker: "allow", user: "allow", admin: "allow" };
const ANY_TOKEN: Policy = { none: "deny", worker: "allow", user: "allow", admin: "allow" };
const ADMIN: Policy = { none: "deny", worker: "deny", user: "deny", admin: "allow" };
/** Nobody's API token opens it: the Telegram webhook wants Telegram's secret, the PO's MCP a turn's. */
const NO_API_TOKEN: Policy = { none: "deny", worker: "deny", user: "deny", admin: "deny" };
/** Git over HTTP: admins and workers of the repository's own project (this is another's). */
const GIT: Policy = ADMIN;
/**
 * The model gateway serves a running agent worker's own token (one with its worker id): none of
 * these callers, the worker token included (it names a project and a role, not a worker).
 */
const GATEWAY: Policy = NO_API_TOKEN;
/** The web app's session: its cookie, which a bearer token alone is not. */
const WEB_SESSION: Policy = NO_API_TOKEN;
/** The web chat: people (and admins as the admin web user); never an agent's worker token. */
const CHAT: Policy = { none: "deny", worker: "deny", user: "allow", admin: "allow" };

/** Who may call each route ("METHOD /pattern"), as the API means it. */
const ROUTE_POLICY: Record<string, Policy> = {
  "GET /health": PUBLIC,
  "GET /metrics": ADMIN,
  "GET /api/openapi.json": ADMIN,
  "POST /api/session": PUBLIC,
  "GET /api/session": WEB_SESSION,
  "DELETE /api/session": WEB_SESSION,
  "GET /api/admin/summary": ADMIN,
  "GET /api/admin/events": ADMIN,
  "GET /api/admin/spend": ADMIN,
  "GET /api/admin/logs": ADMIN,
  "GET /api/admin/logs/stream": ADMIN,
  "GET /api/admin/tracing": ADMIN,
  "GET /api/users": ADMIN,
  "POST /api/users": ADMIN,
  "GET /api/users/:id": ADMIN,
  "PATCH /api/users/:id": ADMIN,
  "GET /api/projects": ADMIN,
  "POST /api/projects": ADMIN,
  "GET /api/projects/:id": ADMIN,
  "PATCH /api/projects/:id": ADMIN,
  "GET /api/projects/:id/deployments": ADMIN,
  // Health and incidents: a person's own project; another project's token does not see it.
  "GET /api/projects/:id/health": { none: "deny", worker: "hidden", user: "allow", admin: "allow" },
  "GET /api/projects/:id/incidents": { none: "deny", worker: "hidden", user: "allow", admin: "allow" },
  "GET /api/ports": ADMIN,
  "POST /api/ports": ADMIN,
  "GET /api/ports/:id": ADMIN,
  "DELETE /api/ports/:id": ADMIN,
  "GET /api/agent-configs": ADMIN,
  "GET /api/agent-configs/:node": ADMIN,
  "PATCH /api/agent-configs/:node": ADMIN,
  "GET /api/agent-configs/:node/versions": ADMIN,
  "GET /api/agent-configs/:node/versions/:version": ADMIN,
  "POST /api/agent-configs/:node/restore": ADMIN,
  "GET /api/settings": ADMIN,
  "PATCH /api/settings": ADMIN,
  "GET /api/servers": ADMIN,
  "POST /api/servers": ADMIN,
  "GET /api/servers/:id": ADMIN,
  "POST /api/servers/:id/check": ADMIN,
  "DELETE /api/servers/:id": ADMIN,
  "GET /api/runs": ADMIN,
  "GET /api/runs/:id": ADMIN,
  "GET /api/runs/:id/events": ADMIN,
  "GET /api/runs/:id/workers": ADMIN,
  "GET /api/runs/:id/events/stream": ANY_TOKEN,
  "GET /api/secrets/audit": ANY_TOKEN,
  "GET /api/tokens": ADMIN,
  "POST /api/tokens": ADMIN,
  "DELETE /api/tokens/:id": ADMIN,
  "GET /api/tools": ANY_TOKEN,
  "POST /api/tools/:name": ANY_TOKEN,
  "GET /api/chat/me": CHAT,
  "GET /api/chat/conversations": CHAT,
  "POST /api/chat/conversations": CHAT,
  "PATCH /api/chat/conversations/:id": CHAT,
  "GET /api/chat/conversations/:id/messages": CHAT,
  "POST /api/chat/conversations/:id/messages": CHAT,
  "POST /api/chat/conversations/:id/secret": CHAT,
  "GET /api/chat/projects": CHAT,
  "GET /api/chat/conversations/:id/stream": CHAT,
  "POST /telegram/webhook": NO_API_TOKEN,
  "POST /api/po/mcp": NO_API_TOKEN,
  "GET /api/po/mcp": PUBLIC,
  "DELETE /api/po/mcp": PUBLIC,
  "GET /api/workers": ADMIN,
  "POST /api/workers": ADMIN,
  "GET /api/workers/:id": ADMIN,
  "GET /api/workers/:id/usage": ADMIN,
  "POST /api/workers/:id/messages": ADMIN,
  "POST /api/workers/:id/pause": ADMIN,
  "POST /api/workers/:id/resume": ADMIN,
  "DELETE /api/workers/:id": ADMIN,
  "GET /api/workers/:id/logs": ADMIN,
  "GET /llm/anthropic": PUBLIC,
  "GET /llm/anthropic/": PUBLIC,
  "GET /llm/anthropic/*": GATEWAY,
  "POST /llm/anthropic/*": GATEWAY,
  "GET /llm/openai": PUBLIC,
  "GET /llm/openai/": PUBLIC,
  "GET /llm/openai/*": GATEWAY,
  "POST /llm/openai/*": GATEWAY,
  "GET /git/:repo/*": GIT,
  "POST /git/:repo/*": GIT,
  "GET /": PUBLIC,
  "GET /admin": PUBLIC,
  "GET /admin/*": PUBLIC,
  "GET /assets/*": PUBLIC,
};

/** A person's tools on their own project: the worker token (another project's) never sees it. */
const OWNER: Policy = { none: "deny", worker: "hidden", user: "allow", admin: "allow" };
/** An admin's tools: a worker token refused even when issued with every group. */
const ADMIN_TOOL: Policy = ADMIN;
/** Values and infrastructure: admins, and workers (of their own project; here another's). */
const WORKER_SECRETS: Policy = { none: "deny", worker: "hidden", user: "deny", admin: "allow" };
/** Lists without a project named: each caller sees its own (a worker its project's). */
const ANY_PERSON: Policy = { none: "deny", worker: "allow", user: "allow", admin: "allow" };
/** A new project: people and admins; a project-scoped worker token cannot. */
const NEW_PROJECT: Policy = { none: "deny", worker: "deny", user: "allow", admin: "allow" };
/** A worker's report channels: only a running worker's own token (with its worker id), none of these. */
const WORKER_ONLY: Policy = { none: "deny", worker: "deny", user: "deny", admin: "deny" };

/** Who may call each tool, and with what input (naming Ursula's project and run where it takes one). */
function toolCases(f: Fixture): Record<string, { policy: Policy; input: unknown }> {
  const own = f.projectId;
  const missing = randomUUID();
  return {
    "agent_config.restore": { policy: ADMIN_TOOL, input: { node: "architect", version: 1 } },
    "agent_config.update": { policy: ADMIN_TOOL, input: { node: "architect", maxTurns: 40 } },
    "deploy.rollback": { policy: OWNER, input: { projectId: own } },
    "deploy.start": { policy: OWNER, input: { projectId: own } },
    "deploy.status": { policy: OWNER, input: { projectId: own } },
    "engineering.answer": { policy: OWNER, input: { runId: f.runId, answer: "Berlin" } },
    "engineering.start": { policy: OWNER, input: { projectId: own, brief: "a bot that tells the weather" } },
    "engineering.status": { policy: OWNER, input: { projectId: own } },
    "instance.list": { policy: ADMIN_TOOL, input: {} },
    "pool.add": { policy: ADMIN_TOOL, input: { token: "123456:not-a-real-bot-token-abcdefghijklmnop" } },
    "pool.list": { policy: ADMIN_TOOL, input: {} },
    "pool.remove": { policy: ADMIN_TOOL, input: { id: missing } },
    "pool.take": { policy: OWNER, input: { projectId: own } },
    "port.allocate": { policy: ADMIN_TOOL, input: { serverId: missing, port: 40_001, projectId: own } },
    "port.release": { policy: ADMIN_TOOL, input: { id: missing } },
    progress: { policy: WORKER_ONLY, input: { step: "probing" } },
    "project.create": { policy: NEW_PROJECT, input: { name: "Matrix probe" } },
    "project.get": { policy: OWNER, input: { id: own } },
    "project.list": { policy: ANY_PERSON, input: {} },
    "project.secrets": { policy: OWNER, input: { projectId: own } },
    "project.status": { policy: OWNER, input: { projectId: own } },
    "project.incidents": { policy: OWNER, input: { projectId: own } },
    "project.teardown": { policy: OWNER, input: { projectId: own, data: "keep" } },
    "project.update": { policy: ADMIN_TOOL, input: { id: own, summary: "probed" } },
    report: { policy: WORKER_ONLY, input: { status: "complete", summary: "probed" } },
    "run.cancel": { policy: ADMIN_TOOL, input: { runId: f.runId, reason: "probe" } },
    "run.get": { policy: OWNER, input: { id: f.runId } },
    "run.grant_budget": { policy: ADMIN_TOOL, input: { runId: f.runId, addUsd: 1 } },
    "run.list": { policy: ANY_PERSON, input: {} },
    "run.spend": { policy: WORKER_SECRETS, input: { runId: f.runId } },
    "secret.audit": { policy: OWNER, input: { projectId: own } },
    "secret.list": { policy: WORKER_SECRETS, input: { projectId: own } },
    "secret.remove": { policy: WORKER_SECRETS, input: { projectId: own, key: "WEATHER_API_KEY" } },
    "secret.request": { policy: OWNER, input: { projectId: own, keys: ["WEATHER_API_KEY"] } },
    "secret.set": { policy: WORKER_SECRETS, input: { projectId: own, key: "WEATHER_API_KEY", value: "v" } },
    "server.check": { policy: ADMIN_TOOL, input: { id: missing } },
    "server.list": { policy: ADMIN_TOOL, input: {} },
    "server.register": { policy: ADMIN_TOOL, input: { handle: "probe", host: "127.0.0.1", privateKey: "x" } },
    "server.remove": { policy: ADMIN_TOOL, input: { id: missing } },
    "settings.update": { policy: ADMIN_TOOL, input: {} },
    "token.create": { policy: ADMIN_TOOL, input: { name: "probe", kind: "admin" } },
    "token.revoke": { policy: ADMIN_TOOL, input: { id: missing } },
    "user.create": { policy: ADMIN_TOOL, input: { name: "Probe", webLogin: `probe-${missing.slice(0, 8)}` } },
    "user.update": { policy: ADMIN_TOOL, input: { id: f.userId, name: "Ursula" } },
  };
}

interface Fixture {
  projectId: string;
  runId: string;
  userId: string;
}

let app: ReliabilityApp;
let fixture: Fixture;

beforeAll(async () => {
  app = await startReliabilityApp();
  const run = await app.orchestrator.store.runs.create({
    projectId: app.projects.own.id,
    kind: "engineering",
  });
  fixture = { projectId: app.projects.own.id, runId: run.id, userId: app.userId };
}, 120_000);
afterAll(async () => app?.close());

function tokenOf(caller: Caller): string | null {
  return caller === "none" ? null : app.tokens[caller];
}

/** The URL of a route with its parameters filled: ids that exist nowhere, the own project's repository. */
/** Routes called on the person's own project (the others get unknown ids): ownership is what they check. */
const OWN_PROJECT_ROUTES = new Set(["/api/projects/:id/health", "/api/projects/:id/incidents"]);

function urlOf(route: RouteEntry): string {
  const path = route.url
    .replace(":id", (id) => (OWN_PROJECT_ROUTES.has(route.url) ? fixture.projectId : id))
    .replace(":repo", `${app.projects.own.slug}.git`)
    .replace(":node", "architect")
    .replace(":version", "1")
    .replace(":name", "project.list")
    .replace(/:\w+/g, () => randomUUID());
  if (path.startsWith("/git/")) return path.replace("*", "info/refs?service=git-upload-pack");
  if (path.startsWith("/llm/")) return path.replace("*", "v1/models");
  return path.replace("*", "probe");
}

/** The caller's token where the route looks for it: Basic for git (as git sends it), else Bearer. */
function authOf(route: RouteEntry, token: string | null): Record<string, string> {
  if (token === null) return {};
  if (route.url.startsWith("/git/")) {
    return { authorization: `Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}` };
  }
  return { authorization: `Bearer ${token}` };
}

/**
 * Bodies that pass a route's schema where its handler (not the token check before it) decides who
 * may: Fastify validates a body before the handler runs.
 */
const BODIES: Record<string, unknown> = {
  "/api/chat/conversations/:id/messages": { text: "hello" },
  "/api/chat/conversations/:id/secret": { key: "WEATHER_API_KEY", value: "v" },
};

/** Status and body of one request over HTTP; an event stream is hung up once its head arrives. */
async function call(method: string, url: string, headers: Record<string, string>, body?: unknown) {
  const hangUp = new AbortController();
  try {
    const res = await fetch(`${app.url}${url}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: hangUp.signal,
    });
    const isStream = res.headers.get("content-type")?.startsWith("text/event-stream") ?? false;
    return { status: res.status, body: isStream ? "" : await res.text() };
  } finally {
    hangUp.abort();
  }
}

/** What an answer means for the matrix; a 5xx is always a failure. */
function outcomeOf(status: number, body: string, fixtureIds: string[]): Outcome | "error" {
  if (status >= 500) return "error";
  if (status === 401 || status === 403) return "deny";
  if (status === 404 && fixtureIds.some((id) => body.includes(id))) return "hidden";
  return "allow";
}

describe("the authorization matrix", () => {
  it("has a policy for every route, and none for a route that is gone", () => {
    const routes = listRoutes(app.api).map((r) => `${r.method} ${r.url}`);
    expect(
      routes.filter((r) => !(r in ROUTE_POLICY)),
      "routes without a policy",
    ).toEqual([]);
    expect(
      Object.keys(ROUTE_POLICY).filter((r) => !routes.includes(r)),
      "policies of no route",
    ).toEqual([]);
  });

  it("has a policy for every tool, and none for a tool that is gone", () => {
    const tools = createToolRegistry()
      .list()
      .map((t) => t.name);
    const cases = toolCases(fixture);
    expect(
      tools.filter((t) => !(t in cases)),
      "tools without a policy",
    ).toEqual([]);
    expect(
      Object.keys(cases).filter((t) => !tools.includes(t)),
      "policies of no tool",
    ).toEqual([]);
  });

  it("lets each caller reach exactly the routes the policy gives it", { timeout: 120_000 }, async () => {
    const failures = new Failures();
    let tried = 0;
    for (const route of listRoutes(app.api)) {
      const policy = ROUTE_POLICY[`${route.method} ${route.url}`];
      if (!policy) continue;
      for (const caller of CALLERS) {
        const url = urlOf(route);
        const body =
          route.method === "POST" || route.method === "PATCH" ? (BODIES[route.url] ?? {}) : undefined;
        const res = await call(route.method, url, authOf(route, tokenOf(caller)), body);
        tried++;
        const outcome = outcomeOf(res.status, res.body, [fixture.projectId]);
        if (outcome !== policy[caller]) {
          failures.add(
            `${caller} ${route.method} ${url}`,
            `expected ${policy[caller]}, got ${res.status} ${res.body.slice(0, 200)}`,
          );
        }
      }
    }
    tally({ suite: "authorization", what: "every route x 4 callers", tried, failures: failures.count });
    expect(failures.count, failures.toString()).toBe(0);
  });

  it("lets each caller call exactly the tools the policy gives it", { timeout: 120_000 }, async () => {
    const failures = new Failures();
    let tried = 0;
    // Admins last: their calls may change what the others would find (a cancelled run, a teardown).
    for (const caller of CALLERS) {
      for (const [name, { policy, input }] of Object.entries(toolCases(fixture))) {
        const token = tokenOf(caller);
        const res = await call(
          "POST",
          `/api/tools/${name}`,
          token ? { authorization: `Bearer ${token}` } : {},
          input,
        );
        tried++;
        const outcome = outcomeOf(res.status, res.body, [fixture.projectId, fixture.runId]);
        if (outcome !== policy[caller]) {
          failures.add(
            `${caller} ${name}`,
            `expected ${policy[caller]}, got ${res.status} ${res.body.slice(0, 200)}`,
          );
        }
      }
    }
    tally({ suite: "authorization", what: "every tool x 4 callers", tried, failures: failures.count });
    expect(failures.count, failures.toString()).toBe(0);
  });
});
