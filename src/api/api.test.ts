import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { issueToken } from "../auth/index.js";
import { listRoutes } from "./server.js";

let h: ApiHarness;
const FAKE_TOKEN = "orc_not-a-real-token";

beforeAll(async () => {
  h = await startApiHarness({ localForge: true });
  await h.api.ready();
});
afterAll(async () => h.close());

const auth = () => ({ authorization: `Bearer ${h.adminToken}` });

describe("auth", () => {
  it("refuses every registered route but /health and the web app's without a valid token", async () => {
    const table = listRoutes(h.api);
    expect(table.length).toBeGreaterThan(20);
    // The git smart HTTP routes are in the walk (the harness serves a LocalForge).
    expect(table).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ method: "GET", url: "/git/:repo/*" }),
        expect.objectContaining({ method: "POST", url: "/git/:repo/*" }),
      ]),
    );
    const wrongTokens = [
      `Bearer ${FAKE_TOKEN}`,
      `Basic ${Buffer.from(`x-access-token:${FAKE_TOKEN}`).toString("base64")}`,
    ];
    for (const route of table) {
      const isGit = route.url.startsWith("/git/");
      // A well-formed repository path, so the git routes get as far as auth (a malformed one is a 404).
      const url = route.url
        .replace(":repo", "x.git")
        .replace("*", "info/refs")
        .replace(/:(\w+)/g, "00000000-0000-4000-8000-000000000000");
      const label = `${route.method} ${route.url}`;
      const none = await h.api.inject({ method: route.method as "GET", url });
      // Public on purpose: liveness and the web app's page at / and /admin (the app signs in itself).
      if (
        route.url === "/health" ||
        route.url === "/" ||
        route.url === "/admin" ||
        route.url === "/admin/*"
      ) {
        expect(none.statusCode, label).toBe(200);
        continue;
      }
      // Signing in is public: what it takes is a token in the body, and none is a 400 naming it.
      if (route.url === "/api/session" && route.method === "POST") {
        expect(none.statusCode, label).toBe(400);
        continue;
      }
      // The web app's files are public too: one that is not there is a plain 404, not a 401.
      if (route.url === "/assets/*") {
        expect(none.statusCode, label).toBe(404);
        continue;
      }
      expect(none.statusCode, label).toBe(401);
      if (isGit) expect(none.headers["www-authenticate"], label).toBe('Basic realm="orchestrator"');
      else expect(none.json().error.code, label).toBe("unauthorized");
      for (const authorization of wrongTokens) {
        const wrong = await h.api.inject({ method: route.method as "GET", url, headers: { authorization } });
        expect(wrong.statusCode, `${label} with ${authorization.split(" ")[0]}`).toBe(401);
      }
    }
  });

  it("refuses unknown routes without a token too, and answers 404 with one", async () => {
    expect((await h.api.inject({ method: "GET", url: "/api/nothing" })).statusCode).toBe(401);
    expect((await h.api.inject({ method: "GET", url: "/api/nothing", headers: auth() })).statusCode).toBe(
      404,
    );
  });

  it("keeps worker tokens out of admin routes and other projects", async () => {
    const mine = await h.store.projects.create({ name: "mine" });
    const other = await h.store.projects.create({ name: "other" });
    const { token } = await issueToken(h.store, {
      name: "dev",
      kind: "worker",
      projectId: mine.id,
      role: "developer",
      groups: ["projects", "runs"],
    });
    const headers = { authorization: `Bearer ${token}` };
    expect((await h.api.inject({ method: "GET", url: "/api/projects", headers })).statusCode).toBe(403);
    const own = await h.api.inject({
      method: "POST",
      url: "/api/tools/project.get",
      headers,
      payload: { id: mine.id },
    });
    expect(own.statusCode).toBe(200);
    expect(own.json().data.id).toBe(mine.id);
    const foreign = await h.api.inject({
      method: "POST",
      url: "/api/tools/project.get",
      headers,
      payload: { id: other.id },
    });
    expect(foreign.statusCode).toBe(404);
    // The developer profile does not include project.create or project.list.
    const create = await h.api.inject({
      method: "POST",
      url: "/api/tools/project.create",
      headers,
      payload: { name: "x" },
    });
    expect(create.statusCode).toBe(403);
    const tools = await h.api.inject({ method: "GET", url: "/api/tools", headers });
    expect(
      tools
        .json()
        .items.map((t: { name: string }) => t.name)
        .sort(),
    ).toEqual(["project.get", "run.get"]);
  });

  it("stops honouring a revoked token", async () => {
    const { token, record } = await issueToken(h.store, { name: "temp", kind: "admin" });
    const headers = { authorization: `Bearer ${token}` };
    expect((await h.api.inject({ method: "GET", url: "/api/projects", headers })).statusCode).toBe(200);
    expect(
      (await h.api.inject({ method: "DELETE", url: `/api/tokens/${record.id}`, headers: auth() })).statusCode,
    ).toBe(200);
    expect((await h.api.inject({ method: "GET", url: "/api/projects", headers })).statusCode).toBe(401);
  });
});

describe("REST", () => {
  it("creates, reads, pages and updates projects", async () => {
    const created = await h.api.inject({
      method: "POST",
      url: "/api/projects",
      headers: auth(),
      payload: { name: "Weather Bot" },
    });
    expect(created.statusCode).toBe(201);
    const project = created.json();
    expect(project.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(project.slug).toBe("weather-bot");
    const got = await h.api.inject({ method: "GET", url: `/api/projects/${project.id}`, headers: auth() });
    expect(got.json().name).toBe("Weather Bot");
    const patched = await h.api.inject({
      method: "PATCH",
      url: `/api/projects/${project.id}`,
      headers: auth(),
      payload: { description: "tells the weather" },
    });
    expect(patched.json().description).toBe("tells the weather");
    const page = await h.api.inject({
      method: "GET",
      url: "/api/projects?limit=1&offset=0",
      headers: auth(),
    });
    expect(page.json().items).toHaveLength(1);
    expect(page.json().total).toBeGreaterThanOrEqual(1);
  });

  it("answers bad input with 400 and the field paths", async () => {
    const bad = await h.api.inject({
      method: "POST",
      url: "/api/projects",
      headers: auth(),
      payload: { name: "", slug: "Bad Slug" },
    });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json().error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(["body.name", "body.slug"]));
    const badQuery = await h.api.inject({ method: "GET", url: "/api/projects?limit=0", headers: auth() });
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json().error.details[0].path).toBe("querystring.limit");
    const badId = await h.api.inject({ method: "GET", url: "/api/projects/not-a-uuid", headers: auth() });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().error.details[0].path).toBe("params.id");
    // Refused by Fastify before any route runs, still in our error shape.
    for (const url of ["/api/projects/%E0%A4%A", `/api/projects/${"a".repeat(200)}`]) {
      const early = await h.api.inject({ method: "GET", url, headers: auth() });
      expect(early.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(early.statusCode, url).toBeLessThan(500);
      expect(early.json(), url).toEqual({
        error: { code: expect.any(String), message: expect.any(String), details: [] },
      });
    }
  });

  it("answers an unknown id with 404", async () => {
    const missing = await h.api.inject({
      method: "GET",
      url: "/api/projects/5b0c2d4e-1111-4222-8333-444455556666",
      headers: auth(),
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("not_found");
    const run = await h.api.inject({
      method: "GET",
      url: "/api/runs/5b0c2d4e-1111-4222-8333-444455556666",
      headers: auth(),
    });
    expect(run.statusCode).toBe(404);
  });

  it("refuses a second allocation of the same server port with 409", async () => {
    const server = await h.store.servers.create({ handle: "box-1", host: "127.0.0.1" });
    const project = await h.store.projects.create({ name: "ports" });
    const payload = { serverId: server.id, projectId: project.id, port: 9100 };
    expect(
      (await h.api.inject({ method: "POST", url: "/api/ports", headers: auth(), payload })).statusCode,
    ).toBe(201);
    expect(
      (await h.api.inject({ method: "POST", url: "/api/ports", headers: auth(), payload })).statusCode,
    ).toBe(409);
  });

  it("never returns a token hash and shows a new token once", async () => {
    const created = await h.api.inject({
      method: "POST",
      url: "/api/tokens",
      headers: auth(),
      payload: { name: "ci", kind: "admin" },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().token).toMatch(/^orc_/);
    const list = await h.api.inject({ method: "GET", url: "/api/tokens", headers: auth() });
    expect(list.body).not.toContain(created.json().token);
    expect(list.body).not.toMatch(/[0-9a-f]{64}/);
    const worker = await h.api.inject({
      method: "POST",
      url: "/api/tokens",
      headers: auth(),
      payload: { name: "w", kind: "worker" },
    });
    expect(worker.statusCode).toBe(400);
    expect(worker.json().error.details.map((d: { path: string }) => d.path)).toEqual([
      "body.projectId",
      "body.role",
    ]);
  });
});

describe("user tokens and REST writes", () => {
  it("issues a user token that reaches only its user's projects", async () => {
    const user = await h.api.inject({
      method: "POST",
      url: "/api/users",
      headers: auth(),
      payload: { name: "Alice", telegramId: "777001" },
    });
    expect(user.statusCode).toBe(201);
    const userId = user.json().id;
    const missing = await h.api.inject({
      method: "POST",
      url: "/api/tokens",
      headers: auth(),
      payload: { name: "alice", kind: "user" },
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details.map((d: { path: string }) => d.path)).toEqual(["body.userId"]);
    const issued = await h.api.inject({
      method: "POST",
      url: "/api/tokens",
      headers: auth(),
      payload: { name: "alice", kind: "user", userId },
    });
    expect(issued.statusCode).toBe(201);
    expect(issued.json().record).toMatchObject({ kind: "user", userId, role: null });
    const headers = { authorization: `Bearer ${issued.json().token}` };
    expect((await h.api.inject({ method: "GET", url: "/api/projects", headers })).statusCode).toBe(403);
    const tools = await h.api.inject({ method: "GET", url: "/api/tools", headers });
    expect(tools.json().items.map((t: { name: string }) => t.name)).not.toContain("token.create");
    const created = await h.api.inject({
      method: "POST",
      url: "/api/tools/project.create",
      headers,
      payload: { name: "Alice bot" },
    });
    expect(created.statusCode).toBe(200);
    expect(created.json().data.ownerId).toBe(userId);
    const foreign = await h.store.projects.create({ name: "not alice's" });
    const get = (id: string) =>
      h.api.inject({ method: "POST", url: "/api/tools/project.get", headers, payload: { id } });
    expect((await get(created.json().data.id)).statusCode).toBe(200);
    expect((await get(foreign.id)).statusCode).toBe(404);
    const foreignRun = await h.store.runs.create({ projectId: foreign.id, kind: "engineering", input: {} });
    const stream = await h.api.inject({
      method: "GET",
      url: `/api/runs/${foreignRun.id}/events/stream`,
      headers,
    });
    expect(stream.statusCode).toBe(404);
    const escalate = await h.api.inject({
      method: "POST",
      url: "/api/tools/token.create",
      headers,
      payload: { name: "mine now", kind: "admin" },
    });
    expect(escalate.statusCode).toBe(403);
  });

  it("answers the tool door's token.create with the token, shown once, like POST /api/tokens", async () => {
    const res = await h.api.inject({
      method: "POST",
      url: "/api/tools/token.create",
      headers: auth(),
      payload: { name: "by-tool", kind: "admin" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.token).toMatch(/^orc_[A-Za-z0-9_-]{43}$/);
    const listed = await h.api.inject({ method: "GET", url: "/api/tokens", headers: auth() });
    expect(listed.body).not.toContain(res.json().data.token);
    const revoked = await h.api.inject({
      method: "DELETE",
      url: `/api/tokens/${res.json().data.record.id}`,
      headers: auth(),
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revokedAt).not.toBeNull();
  });

  it("keeps the REST answers of users, agent configs and ports", async () => {
    const user = (
      await h.api.inject({
        method: "POST",
        url: "/api/users",
        headers: auth(),
        payload: { name: "Bob", webLogin: "bob" },
      })
    ).json();
    const patched = await h.api.inject({
      method: "PATCH",
      url: `/api/users/${user.id}`,
      headers: auth(),
      payload: { isAllowed: false },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ id: user.id, name: "Bob", isAllowed: false });
    const noLogin = await h.api.inject({
      method: "POST",
      url: "/api/users",
      headers: auth(),
      payload: { name: "x" },
    });
    expect(noLogin.statusCode).toBe(400);
    const config = await h.api.inject({
      method: "PATCH",
      url: "/api/agent-configs/developer",
      headers: auth(),
      payload: { maxTurns: 7 },
    });
    expect(config.statusCode).toBe(200);
    expect(config.json()).toMatchObject({ node: "developer", maxTurns: 7 });
    const server = await h.store.servers.create({ handle: "box-rest", host: "127.0.0.1" });
    const project = await h.store.projects.create({ name: "rest ports" });
    const port = await h.api.inject({
      method: "POST",
      url: "/api/ports",
      headers: auth(),
      payload: { serverId: server.id, projectId: project.id, port: 9200 },
    });
    expect(port.statusCode).toBe(201);
    const url = `/api/ports/${port.json().id}`;
    const released = await h.api.inject({ method: "DELETE", url, headers: auth() });
    expect(released.statusCode).toBe(204);
    expect(released.body).toBe("");
    expect((await h.api.inject({ method: "DELETE", url, headers: auth() })).statusCode).toBe(404);
  });
});

describe("documents", () => {
  it("serves an OpenAPI document generated from the schemas", async () => {
    const doc = (await h.api.inject({ method: "GET", url: "/api/openapi.json", headers: auth() })).json();
    expect(doc.openapi).toMatch(/^3\./);
    const post = doc.paths["/api/projects"].post;
    expect(post.requestBody.content["application/json"].schema.properties.name.type).toBe("string");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/api/runs/{id}/events", "/api/tools/{name}", "/health"]),
    );
  });

  it("serves /metrics that promtool accepts, counting requests", async () => {
    await h.api.inject({ method: "GET", url: "/health" });
    const res = await h.api.inject({ method: "GET", url: "/metrics", headers: auth() });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(
      /orchestrator_http_requests_total\{method="GET",route="\/health",status_code="200"\} \d+/,
    );
    const file = join(mkdtempSync(join(tmpdir(), "metrics-")), "m.txt");
    writeFileSync(file, res.body);
    expect(
      execFileSync("sh", ["-c", `promtool check metrics < ${file} 2>&1`], { encoding: "utf8" }).trim(),
    ).toBe("");
  });

  it("answers /health without a token", async () => {
    const res = await h.api.inject({ method: "GET", url: "/health" });
    expect(res.json()).toMatchObject({ status: "ok", checks: { store: "ok" } });
  });
});
