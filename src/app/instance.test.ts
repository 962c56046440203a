import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { InstanceHeartbeat } from "./instance.js";

const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
let store: Store;

beforeAll(async () => {
  store = await openTestStore();
}, 120_000);
afterAll(async () => {
  await store?.close();
});

describe("InstanceHeartbeat", () => {
  it("beats at start, renews through its scheduled job, and ends its record at a stop", async () => {
    const heartbeat = new InstanceHeartbeat({
      store,
      id: "engine-test",
      roles: ["engine"],
      ttlMs: 9_000,
      logger,
    });
    await heartbeat.start();
    const first = await store.instances.get("engine-test");
    expect(first).toMatchObject({ alive: true, incarnation: heartbeat.incarnation });

    const job = heartbeat.job();
    expect(job).toMatchObject({ name: "instance.heartbeat", scope: "every-process", intervalMs: 3_000 });
    await sleep(5);
    await job.run(new AbortController().signal);
    const renewed = await store.instances.get("engine-test");
    expect(Date.parse(renewed?.heartbeatAt ?? "")).toBeGreaterThan(Date.parse(first?.heartbeatAt ?? ""));

    await heartbeat.stop();
    expect(await store.instances.get("engine-test")).toBeNull();
  });
});
