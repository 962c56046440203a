import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { issueToken } from "../auth/index.js";
import { InProcessBus } from "../bus/index.js";
import { createLogger, createMetrics, REDACTED, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { createToolRegistry } from "../tools/index.js";
import type { WorkerService, WorkerStatus } from "../workers/index.js";
import type { Api } from "./index.js";
import { buildApi } from "./index.js";

/** Becomes known to the redactor only after records holding it were written. */
const LATE_SECRET = "learnt-late-9c41e2";
const WORKER_ID = randomUUID();

/** Workers as a process that saw them would answer: only logs are asked for here. */
const workers: WorkerService = {
  logs: (id) => (id === WORKER_ID ? [`$ env`, `API_KEY=${LATE_SECRET}`, "done"] : []),
  status: async () => ({ id: WORKER_ID }) as WorkerStatus,
  create: () => Promise.reject(new Error("not in this test")),
  send: () => Promise.reject(new Error("not in this test")),
  exec: () => Promise.reject(new Error("not in this test")),
  pause: () => Promise.reject(new Error("not in this test")),
  resume: () => Promise.reject(new Error("not in this test")),
  terminate: () => Promise.reject(new Error("not in this test")),
  list: () => Promise.reject(new Error("not in this test")),
};

let store: Store;
let api: Api;
let redactor: SecretRedactor;
let admin = "";

beforeAll(async () => {
  redactor = new SecretRedactor();
  store = await openTestStore({ redactor });
  api = await buildApi({
    store,
    bus: new InProcessBus(),
    tools: createToolRegistry(),
    metrics: createMetrics(),
    logger: createLogger({ level: "silent", redactor }),
    version: "test",
    workers,
    redactor,
  });
  admin = (await issueToken(store, { name: "admin", kind: "admin" })).token;
});
afterAll(async () => {
  await api?.close();
  await store?.close();
});

async function get(url: string, token = admin) {
  return api.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });
}

describe("API answers", () => {
  it("mask a secret learnt after the record holding it was written: events as JSON and as a stream", async () => {
    const project = await store.projects.create({ name: "redacted answers" });
    const run = await store.runs.create({ projectId: project.id, kind: "engineering" });
    await store.runEvents.append({
      runId: run.id,
      type: "run.log",
      data: { message: `printenv -> API_KEY=${LATE_SECRET}`, test: `"${LATE_SECRET}"` },
    });
    // Stored as written: the store did not know the value yet.
    expect(JSON.stringify(await store.runEvents.list(run.id, {}))).toContain(LATE_SECRET);
    redactor.add(LATE_SECRET);

    const events = await get(`/api/runs/${run.id}/events`);
    expect(events.statusCode).toBe(200);
    expect(events.body).not.toContain(LATE_SECRET);
    expect(events.json().items[0].data).toEqual({
      message: `printenv -> API_KEY=${REDACTED}`,
      test: `"${REDACTED}"`,
    });

    await store.runs.transition(run.id, "cancelled", { result: { reason: "test" } });
    const stream = await get(`/api/runs/${run.id}/events/stream`);
    expect(stream.body).toContain("event: run.log");
    expect(stream.body).toContain(`API_KEY=${REDACTED}`);
    expect(stream.body).not.toContain(LATE_SECRET);
  });

  it("mask worker logs and error messages", async () => {
    redactor.add(LATE_SECRET);
    const logs = await get(`/api/workers/${WORKER_ID}/logs`);
    expect(logs.json()).toEqual({ lines: ["$ env", `API_KEY=${REDACTED}`, "done"] });
    const missing = await get(`/api/no-such-route-${LATE_SECRET}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.body).not.toContain(LATE_SECRET);
    expect(missing.json().error.message).toContain(REDACTED);
  });

  it("show a new API token once, in the answer that issues it, and mask it everywhere else", async () => {
    const created = await api.inject({
      method: "POST",
      url: "/api/tokens",
      headers: { authorization: `Bearer ${admin}` },
      payload: { name: "shown once", kind: "admin" },
    });
    expect(created.statusCode).toBe(201);
    const { token } = created.json() as { token: string };
    expect(token).toMatch(/^orc_[A-Za-z0-9_-]{43}$/);
    expect((await get("/api/tokens", token)).statusCode).toBe(200);

    // Any token, this process's or another's, is masked by its shape in every other answer.
    const project = await store.projects.create({ name: "token answers" });
    const run = await store.runs.create({ projectId: project.id, kind: "engineering" });
    await store.runEvents.append({ runId: run.id, type: "run.log", data: { message: `token ${token}` } });
    const events = await get(`/api/runs/${run.id}/events`);
    expect(events.body).not.toContain(token);
    expect(events.json().items[0].data).toEqual({ message: `token ${REDACTED}` });
  });
});
