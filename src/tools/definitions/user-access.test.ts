import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockedResult, blockedRun } from "../../../test/support/blocked-runs.js";
import { openTestStore } from "../../../test/support/store.js";
import { InProcessBus } from "../../bus/index.js";
import { AppError, type Principal, type Project, type Run } from "../../contracts/index.js";
import { createLogger, SecretRedactor } from "../../observability/index.js";
import type { Store } from "../../store/index.js";
import { type ToolServices, toolContextFor } from "../context.js";
import { createToolRegistry } from "../index.js";

const registry = createToolRegistry();
let store: Store;
let services: ToolServices;
let aliceId: string;
let bobId: string;
let alice: Principal;
let bob: Principal;
let aliceProject: Project;
let bobProject: Project;

async function failure(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const call = (principal: Principal, name: string, input: unknown) =>
  registry.invoke(name, input, toolContextFor(principal, services));

/** A succeeded engineering run with a commit: what `deploy.start` deploys by default. */
async function greenEngineeringRun(projectId: string): Promise<void> {
  const run = await store.runs.create({
    projectId,
    kind: "engineering",
    input: { mode: "build", text: "x" },
  });
  await store.runs.transition(run.id, "running");
  await store.runs.transition(run.id, "succeeded", { result: { commit: "a".repeat(40) } });
}

beforeAll(async () => {
  store = await openTestStore();
  services = {
    store,
    bus: new InProcessBus(),
    logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
  };
  const a = await store.users.create({ name: "Alice", telegramId: "1001" });
  const b = await store.users.create({ name: "Bob", telegramId: "1002" });
  aliceId = a.id;
  bobId = b.id;
  alice = { kind: "user", tokenId: "tok-alice", userId: aliceId };
  bob = { kind: "user", tokenId: "tok-bob", userId: bobId };
  aliceProject = await store.projects.create({ name: "Alice weather", ownerId: a.id });
  bobProject = await store.projects.create({ name: "Bob notes", ownerId: b.id });
});
afterAll(async () => {
  await store?.close();
});

describe("a user principal", () => {
  it("sees only the tools of its profile: never servers, secrets, tokens, users or instances", () => {
    expect(
      registry
        .listFor(alice)
        .map((t) => t.name)
        .sort(),
    ).toEqual([
      "deploy.rollback",
      "deploy.start",
      "deploy.status",
      "engineering.answer",
      "engineering.start",
      "engineering.status",
      "pool.take",
      "project.create",
      "project.get",
      "project.incidents",
      "project.list",
      "project.secrets",
      "project.status",
      "project.teardown",
      "run.get",
      "run.list",
      "secret.audit",
      "secret.request",
    ]);
  });

  it("is refused admin tools before they run", async () => {
    const refused = [
      ["token.create", { name: "x", kind: "admin" }],
      ["token.revoke", { id: "5b0c2d4e-1111-4222-8333-444455556666" }],
      ["user.create", { name: "Eve", telegramId: "1003" }],
      ["user.update", { id: aliceId, role: "admin" }],
      ["server.list", {}],
      ["instance.list", {}],
      ["pool.list", {}],
      ["pool.add", { token: "1:x" }],
      ["secret.list", { projectId: aliceProject.id }],
      ["secret.set", { projectId: aliceProject.id, key: "API_KEY", value: "k-123456" }],
      ["secret.remove", { projectId: aliceProject.id, key: "API_KEY" }],
      ["project.update", { id: aliceProject.id, runBudgetUsd: 1000 }],
      ["run.grant_budget", { runId: "5b0c2d4e-1111-4222-8333-444455556666", addUsd: 5 }],
    ] as const;
    for (const [name, input] of refused) {
      expect((await failure(call(alice, name, input))).code, name).toBe("tool_forbidden");
    }
    // Nothing was changed on the way.
    expect((await store.users.get(aliceId)).role).toBe("user");
  });

  it("reads and works on its own projects", async () => {
    expect(await call(alice, "project.get", { id: aliceProject.id })).toMatchObject({ id: aliceProject.id });
    const page = (await call(alice, "project.list", {})) as { items: Project[]; total: number };
    expect(page.items.map((p) => p.id)).toEqual([aliceProject.id]);
    expect(page.total).toBe(1);
    const run = (await call(alice, "engineering.start", {
      projectId: aliceProject.id,
      brief: "a bot that tells the weather",
    })) as Run;
    expect(run).toMatchObject({ projectId: aliceProject.id, kind: "engineering", status: "queued" });
    expect(await call(alice, "run.get", { id: run.id })).toMatchObject({ id: run.id });
    const runs = (await call(alice, "run.list", { projectId: aliceProject.id })) as { items: Run[] };
    expect(runs.items.map((r) => r.id)).toContain(run.id);
    expect(await call(alice, "engineering.status", { projectId: aliceProject.id })).toMatchObject({
      run: { id: run.id },
    });
    expect(await call(alice, "deploy.status", { projectId: aliceProject.id })).toMatchObject({ live: null });
  });

  it("finds another user's project, and its runs, not_found, as if they did not exist", async () => {
    const bobRun = (await call(bob, "engineering.start", {
      projectId: bobProject.id,
      brief: "a notes app",
    })) as Run;
    const attempts = [
      ["project.get", { id: bobProject.id }],
      ["engineering.start", { projectId: bobProject.id, brief: "take it over" }],
      ["engineering.status", { projectId: bobProject.id }],
      ["engineering.status", { runId: bobRun.id }],
      ["deploy.status", { projectId: bobProject.id }],
      ["run.get", { id: bobRun.id }],
      ["run.list", { projectId: bobProject.id }],
    ] as const;
    for (const [name, input] of attempts) {
      expect((await failure(call(alice, name, input))).kind, name).toBe("not_found");
    }
    // Bob's project got no run from Alice.
    expect((await store.runs.list({ projectId: bobProject.id, limit: 50, offset: 0 })).total).toBe(1);
    expect((await failure(call(alice, "run.list", {}))).details[0]?.path).toBe("projectId");
    const listOther = await failure(call(alice, "project.list", { ownerId: bobId }));
    expect(listOther.kind).toBe("forbidden");
  });

  it("does on its own project what a Product Owner acting for it needs", async () => {
    const mine = await store.projects.create({ name: "Alice shipped", ownerId: aliceId });
    await greenEngineeringRun(mine.id);
    const blocked = await blockedRun(store, mine.id, {}, blockedResult("Which city?", null));
    const continued = (await call(alice, "engineering.answer", {
      runId: blocked.id,
      answer: "Berlin",
    })) as Run;
    expect(continued).toMatchObject({ projectId: mine.id, kind: "engineering", status: "queued" });
    for (const [name, action] of [
      ["deploy.start", "deploy"],
      ["deploy.rollback", "rollback"],
      ["project.teardown", "teardown"],
    ] as const) {
      const run = (await call(alice, name, {
        projectId: mine.id,
        ...(action === "teardown" ? { data: "keep" } : {}),
      })) as Run;
      expect(run, name).toMatchObject({ projectId: mine.id, kind: "deploy", status: "queued" });
      expect(run.input, name).toMatchObject({ action });
      // No engine runs here: end it, so the next deploy is not refused as one in progress.
      await store.runs.transition(run.id, "cancelled", {
        result: { cancelled: true },
      });
    }
    const status = (await call(alice, "project.status", { projectId: mine.id })) as {
      items: { id: string }[];
    };
    expect(status.items.map((r) => r.id)).toEqual([mine.id]);
    expect(await call(alice, "project.secrets", { projectId: mine.id })).toEqual({
      projectId: mine.id,
      secrets: [],
      missing: [],
    });
  });

  it("cannot act on another person's project through any tool a Product Owner uses for it", async () => {
    const theirs = await store.projects.create({ name: "Bob shipped", ownerId: bobId });
    await greenEngineeringRun(theirs.id);
    const blocked = await blockedRun(store, theirs.id, {}, blockedResult("Which city?", null));
    const runsBefore = (await store.runs.list({ projectId: theirs.id, limit: 50, offset: 0 })).total;
    const attempts = [
      ["project.status", { projectId: theirs.id }],
      ["project.secrets", { projectId: theirs.id }],
      ["project.incidents", { projectId: theirs.id }],
      ["engineering.answer", { runId: blocked.id, answer: "take it over" }],
      ["deploy.start", { projectId: theirs.id }],
      ["deploy.start", { projectId: theirs.id, commit: "c".repeat(40) }],
      ["deploy.rollback", { projectId: theirs.id }],
      ["project.teardown", { projectId: theirs.id, data: "keep" }],
    ] as const;
    for (const [name, input] of attempts) {
      const refused = await failure(call(alice, name, input));
      expect(refused.kind, name).toBe("not_found");
      // Same answer as for something that does not exist: nothing about Bob's project leaks.
      expect(refused.message, name).not.toContain("Bob");
    }
    expect((await store.runs.list({ projectId: theirs.id, limit: 50, offset: 0 })).total).toBe(runsBefore);
    // Without a project, Alice's status lists none of Bob's.
    const all = (await call(alice, "project.status", {})) as { items: { id: string }[] };
    expect(all.items.map((r) => r.id)).not.toContain(theirs.id);
    expect(all.items.map((r) => r.id)).toContain(aliceProject.id);
    // Nor do her incidents, asked without a project.
    const bobs = await store.incidents.open({
      projectId: theirs.id,
      deploymentId: null,
      reason: "Bob's service is down",
      logsExcerpt: "",
      restarts: 0,
    });
    const incidents = (await call(alice, "project.incidents", {})) as { items: { id: string }[] };
    expect(incidents.items.map((i) => i.id)).not.toContain(bobs.incident.id);
  });

  it("creates projects it owns, never in another's name", async () => {
    const created = (await call(alice, "project.create", { name: "Alice second" })) as Project;
    expect(created.ownerId).toBe(aliceId);
    const forged = await failure(call(alice, "project.create", { name: "Forged", ownerId: bobId }));
    expect(forged.kind).toBe("forbidden");
    expect(await store.projects.findBySlug("forged")).toBeNull();
  });
});

describe("admin tools", () => {
  it("are refused to a worker token even when it was issued the admin group", async () => {
    const po: Principal = {
      kind: "worker",
      tokenId: "tok-po",
      projectId: aliceProject.id,
      role: "po",
      workerId: null,
      groups: ["admin", "projects"],
    };
    for (const [name, input] of [
      ["token.create", { name: "escalate", kind: "admin" }],
      ["user.create", { name: "Mallory", telegramId: "1004" }],
      ["project.update", { id: aliceProject.id, name: "renamed" }],
    ] as const) {
      expect((await failure(call(po, name, input))).code, name).toBe("tool_forbidden");
    }
    expect((await store.projects.get(aliceProject.id)).name).toBe("Alice weather");
  });
});
