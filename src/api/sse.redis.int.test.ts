import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type TestRedis } from "../../test/support/redis.js";
import { openEventStream } from "../../test/support/sse-client.js";
import { openTestStore } from "../../test/support/store.js";
import { issueToken } from "../auth/index.js";
import { RedisStreamsBus } from "../bus/index.js";
import { RunJournal } from "../events/index.js";
import { createLogger, createMetrics, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { createToolRegistry } from "../tools/index.js";
import { type Api, buildApi } from "./index.js";

let redis: TestRedis;
let store: Store;
let apiBus: RedisStreamsBus;
let engineBus: RedisStreamsBus;
let api: Api;
let url = "";
let admin = "";

beforeAll(async () => {
  redis = await startRedis();
  const redactor = new SecretRedactor();
  store = await openTestStore({ redactor });
  // Two buses on one Redis: the API process's and an engine process's, as in a split deployment.
  apiBus = new RedisStreamsBus(redis.url);
  engineBus = new RedisStreamsBus(redis.url);
  api = await buildApi({
    store,
    bus: apiBus,
    tools: createToolRegistry(),
    metrics: createMetrics(),
    logger: createLogger({ level: "silent", redactor }),
    version: "test",
    redactor,
  });
  url = await api.listen({ host: "127.0.0.1", port: 0 });
  admin = (await issueToken(store, { name: "admin", kind: "admin" })).token;
});
afterAll(async () => {
  await api?.close();
  await apiBus?.close();
  await engineBus?.close();
  await store?.close();
  await redis?.stop();
});

describe("run event stream over Redis", () => {
  it("pushes events another process's journal writes, through the shared Redis bus", async () => {
    const engine = new RunJournal({
      store,
      bus: engineBus,
      logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
    });
    const project = await store.projects.create({ name: "sse over redis" });
    const run = await store.runs.create({ projectId: project.id, kind: "engineering" });
    await engine.append({ runId: run.id, type: "run.created", data: { kind: "engineering" } });
    const stream = openEventStream(`${url}/api/runs/${run.id}/events/stream`, {
      authorization: `Bearer ${admin}`,
    });
    await stream.waitFor((e) => e.event === "run.created");
    await engine.stage(run.id, "architect");
    await engine.move(run.id, "running");
    await engine.move(run.id, "succeeded", { result: { ok: true } });
    const { events } = await stream.done;
    expect(events.map((e) => e.event)).toEqual([
      "run.created",
      "run.stage_changed",
      "run.status_changed",
      "run.status_changed",
      "end",
    ]);
  });
});
