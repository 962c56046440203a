/**
 * The workers' admin routes over REST with a real WorkerManager on the store: the list filtered by
 * state and role, and what one worker used (context size from its record, tokens and cost from the
 * usage rows, estimates apart), refused to anyone but an admin.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { buildManager } from "../../test/support/workers-harness.js";
import { issueToken } from "../auth/index.js";
import { InProcessBus } from "../bus/index.js";
import { type Page, type Worker, WorkerUsage } from "../contracts/index.js";
import { createLogger, createMetrics, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { createToolRegistry } from "../tools/index.js";
import { type Api, buildApi } from "./index.js";

let store: Store;
let api: Api;
let root = "";
let admin = "";

beforeAll(async () => {
  store = await openTestStore();
  root = await mkdtemp(join(tmpdir(), "workers-routes-"));
  // No sandbox is made here: the manager only reads and writes the store in these cases.
  const { manager } = buildManager({ store, url: "http://127.0.0.1:9", root });
  api = await buildApi({
    store,
    bus: new InProcessBus(),
    tools: createToolRegistry(),
    metrics: createMetrics(),
    logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
    version: "test",
    workers: manager,
  });
  admin = (await issueToken(store, { name: "admin", kind: "admin" })).token;
});
afterAll(async () => {
  await api?.close();
  await store?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const get = (url: string, token = admin) =>
  api.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });

describe("workers' admin routes", () => {
  it("lists workers by state and by role", async () => {
    const project = await store.projects.create({ name: "listed" });
    const developer = await store.workers.create({
      projectId: project.id,
      role: "developer",
      backend: "scripted",
      runtime: "process",
    });
    const architect = await store.workers.create({
      projectId: project.id,
      role: "architect",
      backend: "api",
      runtime: "process",
    });
    await store.workers.setState(architect.id, "running");

    const ids = async (query: string) => {
      const res = await get(`/api/workers?projectId=${project.id}&${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as Page<Worker>).items.map((w) => w.id);
    };
    expect(await ids("role=developer")).toEqual([developer.id]);
    expect(await ids("role=architect&state=running")).toEqual([architect.id]);
    expect(await ids("role=developer&state=running")).toEqual([]);
    expect((await get("/api/workers?role=chef")).statusCode).toBe(400);
  });

  it("answers what a worker used: context size, tokens and cost per model and in all, estimates marked", async () => {
    const project = await store.projects.create({ name: "metered" });
    const worker = await store.workers.create({
      projectId: project.id,
      role: "developer",
      backend: "claude-code",
      runtime: "process",
    });
    const fresh = WorkerUsage.parse((await get(`/api/workers/${worker.id}/usage`)).json());
    expect(fresh).toEqual({
      workerId: worker.id,
      contextTokens: 0,
      total: {
        calls: 0,
        inputTokens: 0,
        outputTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd: 0,
        estimatedCostUsd: 0,
      },
      byModel: [],
    });

    await store.workers.touch(worker.id, { sessionId: "s-1", contextTokens: 42_000 });
    const row = {
      workerId: worker.id,
      projectId: project.id,
      runId: null,
      backend: "claude-code" as const,
      model: "claude-sonnet-4-5",
      inputTokens: 1000,
      outputTokens: 100,
      cacheReadTokens: 10,
      cacheWriteTokens: 1,
      costUsd: 0.1,
      costSource: "provider" as const,
    };
    await store.tokenUsage.record(row);
    await store.tokenUsage.record({
      ...row,
      model: "claude-haiku-4-5",
      costUsd: 0.2,
      costSource: "estimated",
    });
    // Another worker's call is not this one's.
    await store.tokenUsage.record({ ...row, workerId: null, costUsd: 9 });

    const res = await get(`/api/workers/${worker.id}/usage`);
    expect(res.statusCode, res.body).toBe(200);
    const usage = WorkerUsage.parse(res.json());
    expect(usage.contextTokens).toBe(42_000);
    expect(usage.total).toEqual({
      calls: 2,
      inputTokens: 2000,
      outputTokens: 200,
      cacheReadTokens: 20,
      cacheWriteTokens: 2,
      costUsd: 0.3,
      estimatedCostUsd: 0.2,
    });
    expect(usage.byModel.map((m) => [m.model, m.costUsd, m.estimatedCostUsd])).toEqual([
      ["claude-haiku-4-5", 0.2, 0.2],
      ["claude-sonnet-4-5", 0.1, 0],
    ]);
  });

  it("refuses a worker's usage to a person who is not an admin, and names a missing worker", async () => {
    const user = await store.users.create({ name: "Pat", webLogin: "pat-workers" });
    const { token } = await issueToken(store, { name: "pat", kind: "user", userId: user.id });
    const project = await store.projects.create({ name: "private" });
    const worker = await store.workers.create({
      projectId: project.id,
      role: "developer",
      backend: "scripted",
      runtime: "process",
    });
    expect((await get(`/api/workers/${worker.id}/usage`, token)).statusCode).toBe(403);
    expect((await get("/api/workers?role=developer", token)).statusCode).toBe(403);
    expect((await get("/api/workers/00000000-0000-4000-8000-000000000000/usage")).statusCode).toBe(404);
  });
});
