import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { issueToken } from "../auth/index.js";
import type { Page, Project, SecretAuditEntry } from "../contracts/index.js";

let h: ApiHarness;
let aliceToken = "";
let bobToken = "";
let workerToken = "";
let alicesProject: Project;
let bobsProject: Project;
const ALICE_VALUE = "alice-value-7f3a9c";
const BOB_VALUE = "bob-value-2e81d0";

beforeAll(async () => {
  h = await startApiHarness();
  const alice = await h.store.users.create({ name: "Alice", webLogin: "alice-audit" });
  const bob = await h.store.users.create({ name: "Bob", webLogin: "bob-audit" });
  alicesProject = await h.store.projects.create({ name: "Alice's bot", ownerId: alice.id });
  bobsProject = await h.store.projects.create({ name: "Bob's shop", ownerId: bob.id });
  aliceToken = (await issueToken(h.store, { name: "alice", kind: "user", userId: alice.id })).token;
  bobToken = (await issueToken(h.store, { name: "bob", kind: "user", userId: bob.id })).token;
  workerToken = (
    await issueToken(h.store, {
      name: "po",
      kind: "worker",
      projectId: bobsProject.id,
      role: "po",
      groups: ["projects"],
    })
  ).token;
  await h.secrets.set({
    projectId: alicesProject.id,
    key: "API_KEY",
    value: ALICE_VALUE,
    kind: "user",
    createdBy: "user:alice",
  });
  await h.secrets.set({
    projectId: bobsProject.id,
    key: "SHOP_KEY",
    value: BOB_VALUE,
    kind: "user",
    createdBy: null,
  });
  await h.store.secrets.recordRead(
    bobsProject.id,
    ["SHOP_KEY"],
    "deploy 6f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
  );
  // A pool secret: no project, so an admin's row only.
  await h.secrets.set({
    projectId: null,
    key: "SPARE_TOKEN",
    value: "spare-9d2c",
    kind: "infra",
    createdBy: null,
  });
});
afterAll(async () => {
  await h?.close();
});

async function audit(token: string, query = ""): Promise<{ status: number; body: Page<SecretAuditEntry> }> {
  const res = await h.api.inject({
    method: "GET",
    url: `/api/secrets/audit${query}`,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.statusCode, body: res.json() };
}

describe("GET /api/secrets/audit", () => {
  it("shows an admin every row, newest first, filtered by project and in pages, never a value", async () => {
    const all = await audit(h.adminToken);
    expect(all.status).toBe(200);
    expect(all.body.items.map((e) => `${e.action} ${e.key}`)).toEqual([
      "put SPARE_TOKEN",
      "read SHOP_KEY",
      "put SHOP_KEY",
      "put API_KEY",
    ]);
    expect(all.body.items[1]).toMatchObject({
      projectId: bobsProject.id,
      actor: "deploy 6f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
    });
    const text = JSON.stringify(all.body);
    for (const value of [ALICE_VALUE, BOB_VALUE, "spare-9d2c"]) expect(text).not.toContain(value);

    const bobs = await audit(h.adminToken, `?projectId=${bobsProject.id}`);
    expect(bobs.body.items.map((e) => e.action)).toEqual(["read", "put"]);
    const second = await audit(h.adminToken, "?limit=1&offset=1");
    expect(second.body).toMatchObject({ total: 4, limit: 1, offset: 1 });
    expect(second.body.items.map((e) => e.key)).toEqual(["SHOP_KEY"]);
  });

  it("shows a user only their own projects' rows, and answers another's project as not found", async () => {
    const mine = await audit(aliceToken);
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((e) => `${e.action} ${e.key} ${e.projectId}`)).toEqual([
      `put API_KEY ${alicesProject.id}`,
    ]);
    expect((await audit(aliceToken, `?projectId=${alicesProject.id}`)).body.total).toBe(1);
    const theirs = await audit(aliceToken, `?projectId=${bobsProject.id}`);
    expect(theirs.status).toBe(404);
    expect(JSON.stringify(theirs.body)).not.toContain("SHOP_KEY");
    expect((await audit(bobToken)).body.items.map((e) => e.key)).toEqual(["SHOP_KEY", "SHOP_KEY"]);
  });

  it("keeps a worker token to its project, and refuses a request without a token", async () => {
    expect((await audit(workerToken)).body.items.every((e) => e.projectId === bobsProject.id)).toBe(true);
    expect((await audit(workerToken, `?projectId=${alicesProject.id}`)).status).toBe(404);
    const anonymous = await h.api.inject({ method: "GET", url: "/api/secrets/audit" });
    expect(anonymous.statusCode).toBe(401);
  });

  it("is the secret.audit tool, which the CLI and MCP reach as well", async () => {
    const res = await h.api.inject({
      method: "POST",
      url: "/api/tools/secret.audit",
      headers: { authorization: `Bearer ${aliceToken}` },
      payload: {},
    });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { data: Page<SecretAuditEntry> }).data.total).toBe(1);
  });
});
