/**
 * The Settings page's API: each node's saved versions with who and when, one version in full,
 * restoring an old one as a new version, the run-time settings over the environment's defaults,
 * and the refusals (unknown node, missing version, invalid field, a person who is not an admin).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { issueToken } from "../auth/index.js";

let h: ApiHarness;
const TTL_MS = 2 * 3_600_000;

beforeAll(async () => {
  h = await startApiHarness({ web: { sessionTtlMs: TTL_MS, cookieSecure: "auto" } });
  await h.api.ready();
});
afterAll(async () => h.close());

const admin = () => ({ authorization: `Bearer ${h.adminToken}` });

async function call(
  method: "GET" | "POST" | "PATCH",
  url: string,
  payload?: Record<string, unknown>,
  headers = admin(),
) {
  const res = await h.api.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
  return { status: res.statusCode, body: res.json() };
}

describe("agent config versions", () => {
  it("saves each PATCH as the next version with the admin's token name, lists versions and reads one", async () => {
    const before = await call("GET", "/api/agent-configs/developer");
    expect(before.body.version).toBe(1);

    const saved = await call("PATCH", "/api/agent-configs/developer", { prompt: "Write small commits." });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toMatchObject({ node: "developer", version: 2, prompt: "Write small commits." });

    const list = await call("GET", "/api/agent-configs/developer/versions");
    expect(list.status).toBe(200);
    expect(
      list.body.items.map((v: { version: number; createdBy: string }) => [v.version, v.createdBy]),
    ).toEqual([
      [2, "admin:test-admin"],
      [1, "shipped default"],
    ]);
    expect(list.body.items[0]).not.toHaveProperty("prompt");
    expect(Date.parse(list.body.items[0].createdAt)).toBeGreaterThanOrEqual(
      Date.parse(before.body.updatedAt),
    );

    const v1 = await call("GET", "/api/agent-configs/developer/versions/1");
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ version: 1, prompt: before.body.prompt, createdBy: "shipped default" });
    const v2 = await call("GET", "/api/agent-configs/developer/versions/2");
    expect(v2.body.prompt).toBe("Write small commits.");
  });

  it("restores an old version as a new one through REST and through the tool door", async () => {
    const original = (await call("GET", "/api/agent-configs/architect/versions/1")).body;
    await call("PATCH", "/api/agent-configs/architect", { model: "claude-opus-4-1", maxTurns: 9 });
    const restored = await call("POST", "/api/agent-configs/architect/restore", { version: 1 });
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    expect(restored.body).toMatchObject({ version: 3, model: original.model, maxTurns: original.maxTurns });
    // The edit is still in the history; nothing was rewritten.
    expect((await call("GET", "/api/agent-configs/architect/versions/2")).body.model).toBe("claude-opus-4-1");

    const byTool = await call("POST", "/api/tools/agent_config.restore", { node: "architect", version: 2 });
    expect(byTool.status).toBe(200);
    expect(byTool.body.data).toMatchObject({ version: 4, model: "claude-opus-4-1" });
    const versions = (await call("GET", "/api/agent-configs/architect/versions")).body.items;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([4, 3, 2, 1]);
  });

  it("refuses an unknown node, a version that does not exist and an invalid field, naming it", async () => {
    const unknown = await call("GET", "/api/agent-configs/janitor/versions");
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain("node");

    const missing = await call("GET", "/api/agent-configs/tester/versions/99");
    expect(missing.status).toBe(404);
    expect(missing.body.error.details).toEqual([expect.objectContaining({ path: "version" })]);
    const restoreMissing = await call("POST", "/api/agent-configs/tester/restore", { version: 99 });
    expect(restoreMissing.status).toBe(404);
    const restoreBad = await call("POST", "/api/agent-configs/tester/restore", { version: "one" });
    expect(restoreBad.status).toBe(400);
    // Past the database's integer: refused as input, never a 500 from the database.
    for (const version of [2_147_483_648, Number.MAX_SAFE_INTEGER]) {
      const huge = await call("POST", "/api/agent-configs/tester/restore", { version });
      expect(huge.status, JSON.stringify(huge.body)).toBe(400);
      expect(JSON.stringify(huge.body.error.details)).toContain("version");
      const byTool = await call("POST", "/api/tools/agent_config.restore", { node: "tester", version });
      expect(byTool.status, JSON.stringify(byTool.body)).toBe(400);
      expect((await call("GET", `/api/agent-configs/tester/versions/${version}`)).status).toBe(400);
    }

    const bad = await call("PATCH", "/api/agent-configs/tester", { maxTurns: 0, prompt: "ok" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ path: "body.maxTurns" })]);
    const badBackend = await call("PATCH", "/api/agent-configs/po", { backend: "codex" });
    expect(badBackend.status).toBe(400);
    expect(badBackend.body.error.details).toEqual([expect.objectContaining({ path: "backend" })]);
    // Nothing was saved by the refused calls.
    expect((await call("GET", "/api/agent-configs/tester")).body.version).toBe(1);
    expect((await call("GET", "/api/agent-configs/po")).body.version).toBe(1);
  });

  it("keeps the versions and the restore to admins", async () => {
    const user = await h.store.users.create({ name: "Pat", webLogin: `pat-${Date.now()}` });
    const { token } = await issueToken(h.store, { name: "pat", kind: "user", userId: user.id });
    const headers = { authorization: `Bearer ${token}` };
    expect((await call("GET", "/api/agent-configs/developer/versions", undefined, headers)).status).toBe(403);
    expect((await call("POST", "/api/agent-configs/developer/restore", { version: 1 }, headers)).status).toBe(
      403,
    );
    expect((await call("PATCH", "/api/settings", { webSessionTtlMs: 600_000 }, headers)).status).toBe(403);
  });
});

describe("run-time settings", () => {
  it("shows the environment's values as defaults, then a stored value with who and when", async () => {
    const first = await call("GET", "/api/settings");
    expect(first.status).toBe(200);
    const session = first.body.items.find((s: { key: string }) => s.key === "webSessionTtlMs");
    expect(session).toEqual({
      key: "webSessionTtlMs",
      value: 12 * 3_600_000,
      defaultValue: 12 * 3_600_000,
      isDefault: true,
      updatedBy: null,
      updatedAt: null,
    });
    expect(first.body.items.map((s: { key: string }) => s.key)).toEqual([
      "workerPausedTtlMs",
      "workerHardTtlMs",
      "agentSessionMaxAgeMs",
      "webSessionTtlMs",
    ]);

    const changed = await call("PATCH", "/api/settings", { webSessionTtlMs: 30 * 60_000 });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.items.find((s: { key: string }) => s.key === "webSessionTtlMs")).toMatchObject({
      value: 30 * 60_000,
      isDefault: false,
      updatedBy: "admin:test-admin",
    });
  });

  it("makes the next sign-in take the stored session length, and null brings back the default", async () => {
    await call("PATCH", "/api/settings", { webSessionTtlMs: 45 * 60_000 });
    const signIn = await h.api.inject({
      method: "POST",
      url: "/api/session",
      payload: { token: h.adminToken },
    });
    expect(String(signIn.headers["set-cookie"])).toContain(`Max-Age=${45 * 60}`);
    const minutes = (Date.parse(signIn.json().expiresAt) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(40);
    expect(minutes).toBeLessThanOrEqual(45);

    await call("PATCH", "/api/settings", { webSessionTtlMs: null });
    const again = await h.api.inject({
      method: "POST",
      url: "/api/session",
      payload: { token: h.adminToken },
    });
    expect(String(again.headers["set-cookie"])).toContain(`Max-Age=${TTL_MS / 1000}`);
  });

  it("refuses a value out of bounds or an unknown key, naming the field", async () => {
    const short = await call("PATCH", "/api/settings", { workerPausedTtlMs: 500 });
    expect(short.status).toBe(400);
    expect(short.body.error.details).toEqual([expect.objectContaining({ path: "body.workerPausedTtlMs" })]);
    const unknown = await call("PATCH", "/api/settings", { workerColour: 1 });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain("workerColour");
  });
});
