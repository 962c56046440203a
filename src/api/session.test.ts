/**
 * Signing in to the web app: a token exchanged for a session cookie, what the cookie may do (and
 * what it may not without the CSRF value), how a session ends, and every admin route walked with
 * a person's session and with none.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { issueToken } from "../auth/index.js";
import { listRoutes } from "./server.js";

let h: ApiHarness;
const TTL_MS = 2 * 3_600_000;

beforeAll(async () => {
  h = await startApiHarness({ localForge: true, web: { sessionTtlMs: TTL_MS, cookieSecure: "auto" } });
  await h.api.ready();
});
afterAll(async () => h.close());

interface SignedIn {
  cookie: string;
  csrf: string;
  setCookie: string;
  body: Record<string, unknown>;
}

async function signIn(token: string): Promise<SignedIn> {
  const res = await h.api.inject({ method: "POST", url: "/api/session", payload: { token } });
  expect(res.statusCode, res.body).toBe(201);
  const setCookie = String(res.headers["set-cookie"]);
  const cookie = setCookie.split(";")[0] as string;
  const body = res.json();
  return { cookie, csrf: body.csrfToken, setCookie, body };
}

async function aUser(name: string) {
  const user = await h.store.users.create({ name, webLogin: `${name.toLowerCase()}-${Date.now()}` });
  const { token } = await issueToken(h.store, { name: `${name} token`, kind: "user", userId: user.id });
  return { user, token };
}

describe("web sign-in", () => {
  it("sets an HttpOnly, SameSite=Strict cookie that expires with the session, and never the token", async () => {
    const { setCookie, cookie, body } = await signIn(h.adminToken);
    expect(setCookie).toMatch(/^orch_session=[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/");
    expect(setCookie).toContain(`Max-Age=${TTL_MS / 1000}`);
    // Plain HTTP here: a Secure cookie would never come back.
    expect(setCookie).not.toContain("Secure");
    expect(setCookie).not.toContain(h.adminToken);
    expect(body).toMatchObject({ kind: "admin", user: null });
    const hours = (Date.parse(String(body.expiresAt)) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(1.9);
    expect(hours).toBeLessThanOrEqual(2);

    const projects = await h.api.inject({ method: "GET", url: "/api/projects", headers: { cookie } });
    expect(projects.statusCode).toBe(200);
    const again = await h.api.inject({ method: "GET", url: "/api/session", headers: { cookie } });
    expect(again.json()).toEqual(body);
  });

  it("marks the cookie Secure behind TLS when told to", async () => {
    const secure = await startApiHarness({ web: { sessionTtlMs: TTL_MS, cookieSecure: "always" } });
    try {
      const res = await secure.api.inject({
        method: "POST",
        url: "/api/session",
        payload: { token: secure.adminToken },
      });
      expect(String(res.headers["set-cookie"])).toContain("Secure");
    } finally {
      await secure.close();
    }
  });

  it("refuses a write carried by the cookie alone, or with a wrong CSRF value", async () => {
    const { cookie, csrf } = await signIn(h.adminToken);
    const write = (headers: Record<string, string>) =>
      h.api.inject({
        method: "POST",
        url: "/api/projects",
        headers: { cookie, ...headers },
        payload: { name: "csrf" },
      });
    const bare = await write({});
    expect(bare.statusCode).toBe(403);
    expect(bare.json().error).toMatchObject({ code: "csrf_failed" });
    expect((await write({ "x-csrf-token": `${csrf.slice(0, -1)}x` })).statusCode).toBe(403);
    expect((await write({ "x-csrf-token": csrf })).statusCode).toBe(201);
    // A bearer token needs no CSRF value: no browser sends it by itself.
    const bearer = await h.api.inject({
      method: "POST",
      url: "/api/projects",
      headers: { authorization: `Bearer ${h.adminToken}` },
      payload: { name: "bearer" },
    });
    expect(bearer.statusCode).toBe(201);
  });

  it("says what is wrong with a sign-in: no token, an unknown one, a worker's", async () => {
    const none = await h.api.inject({ method: "POST", url: "/api/session", payload: {} });
    expect(none.statusCode).toBe(400);
    expect(JSON.stringify(none.json().error.details)).toContain("token");
    const unknown = await h.api.inject({
      method: "POST",
      url: "/api/session",
      payload: { token: "orc_nope" },
    });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.headers["set-cookie"]).toBeUndefined();
    const project = await h.store.projects.create({ name: "worker-sign-in" });
    const { token } = await issueToken(h.store, {
      name: "dev",
      kind: "worker",
      projectId: project.id,
      role: "developer",
      groups: ["projects"],
    });
    const worker = await h.api.inject({ method: "POST", url: "/api/session", payload: { token } });
    expect(worker.statusCode).toBe(403);
    expect(worker.json().error).toMatchObject({ code: "worker_sign_in" });
    expect(worker.headers["set-cookie"]).toBeUndefined();
  });

  it("signs out: the cookie is cleared and the session opens nothing after", async () => {
    const { cookie, csrf } = await signIn(h.adminToken);
    const refused = await h.api.inject({ method: "DELETE", url: "/api/session", headers: { cookie } });
    expect(refused.statusCode).toBe(403);
    const out = await h.api.inject({
      method: "DELETE",
      url: "/api/session",
      headers: { cookie, "x-csrf-token": csrf },
    });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers["set-cookie"])).toMatch(/^orch_session=; .*Expires=Thu, 01 Jan 1970/);
    const after = await h.api.inject({ method: "GET", url: "/api/projects", headers: { cookie } });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.message).toContain("sign in again");
  });

  it("ends a session when its token is revoked or its person barred", async () => {
    const temp = await issueToken(h.store, { name: "temp-admin", kind: "admin" });
    const admin = await signIn(temp.token);
    await h.store.apiTokens.revoke(temp.record.id);
    expect(
      (await h.api.inject({ method: "GET", url: "/api/projects", headers: { cookie: admin.cookie } }))
        .statusCode,
    ).toBe(401);

    const { user, token } = await aUser("Barred");
    const person = await signIn(token);
    expect(person.body).toMatchObject({ kind: "user", user: { id: user.id, name: "Barred", role: "user" } });
    const me = () => h.api.inject({ method: "GET", url: "/api/tools", headers: { cookie: person.cookie } });
    expect((await me()).statusCode).toBe(200);
    await h.store.users.update(user.id, { isAllowed: false });
    expect((await me()).statusCode).toBe(401);
  });

  it("refuses every admin route to a person's session and to none, and lets a person reach their own routes", async () => {
    const { cookie, csrf } = await signIn((await aUser("Walker")).token);
    const routes = listRoutes(h.api);
    const admin = routes.filter((r) => r.access === "admin");
    expect(admin.length).toBeGreaterThan(20);
    expect(admin.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(["GET /api/projects", "GET /api/users", "POST /api/tokens", "GET /metrics"]),
    );
    for (const route of admin) {
      const url = route.url
        .replace(":repo", "x.git")
        .replace("*", "info/refs")
        .replace(/:(\w+)/g, "00000000-0000-4000-8000-000000000000");
      const label = `${route.method} ${route.url}`;
      const method = route.method as "GET";
      const none = await h.api.inject({ method, url });
      expect(none.statusCode, label).toBe(401);
      const person = await h.api.inject({ method, url, headers: { cookie, "x-csrf-token": csrf } });
      if (route.url.startsWith("/git/")) {
        // The git routes take Basic auth only; a cookie is no credential there.
        expect(person.statusCode, label).toBe(401);
        continue;
      }
      expect(person.statusCode, label).toBe(403);
      expect(person.json().error.code, label).toBe("forbidden");
    }
    const own = await h.api.inject({
      method: "POST",
      url: "/api/tools/project.list",
      headers: { cookie, "x-csrf-token": csrf },
      payload: {},
    });
    expect(own.statusCode, own.body).toBe(200);
  });
});
