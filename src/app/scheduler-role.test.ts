import { describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { type Bus, InProcessBus } from "../bus/index.js";
import { loadConfig } from "../config/index.js";
import { ServerService } from "../deploy/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import { Scheduler } from "../scheduler/index.js";
import type { Vault } from "../secrets/index.js";
import type { Store } from "../store/index.js";
import { nodeRpcStream } from "../workers/index.js";
import { CONSUMED_BUS_STREAMS } from "./metrics.js";
import { clusterJobs, startSchedulerRole } from "./scheduler-role.js";

// Building the jobs touches neither the database nor the bus: they are only read when a job runs.
const store = {} as Store;
const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
const deps = {
  config: loadConfig({ SERVER_CHECK_INTERVAL: "2m" }, "embedded"),
  store,
  bus: {} as Bus,
  logger,
  servers: new ServerService({ store, vault: {} as Vault, logger }),
};

describe("the scheduler role", () => {
  it("runs every cluster-wide job as a leader job, the servers' checks at their interval", () => {
    const jobs = clusterJobs(deps);
    expect(jobs.map((job) => job.name)).toEqual([
      "servers.health-check",
      "web-sessions.cleanup",
      "gc.dead-letters",
      "gc.worker-records",
    ]);
    expect(jobs.every((job) => job.scope === "leader")).toBe(true);
    expect(jobs[0]?.intervalMs).toBe(120_000);
  });

  it("registers them on the process's scheduler", async () => {
    const scheduler = new Scheduler({ holder: "scheduler-test", leases: {} as never, logger });
    const { jobs } = startSchedulerRole({ ...deps, scheduler });
    expect(scheduler.state().map((job) => job.name)).toEqual(jobs);
    await scheduler.stop();
  });

  it("deletes the dead letters of the consumed streams and of each workers node's own once older than GC_DEAD_LETTER_AGE", async () => {
    const bus = new InProcessBus();
    const realStore = await openTestStore();
    try {
      const node = await realStore.instances.beat({
        id: "workers-node-1",
        incarnation: "i1",
        roles: ["workers"],
        host: "box",
        pid: 1,
        ttlMs: 60_000,
      });
      const streams = [CONSUMED_BUS_STREAMS[0] as string, nodeRpcStream(node.id)];
      for (const stream of streams) {
        bus.consume(stream, { group: "g", consumer: "c", maxDeliveries: 1 }, async () => {
          throw new Error("poison");
        });
        await bus.publish(stream, { type: "test.poison", payload: null });
      }
      const deadLetters = async () => (await Promise.all(streams.map((s) => bus.deadLetters(s)))).flat();
      const end = Date.now() + 5_000;
      while ((await deadLetters()).length < 2 && Date.now() < end) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(await deadLetters()).toHaveLength(2);
      const counted: [string, number][] = [];
      const jobFor = (age: string) =>
        clusterJobs({
          ...deps,
          store: realStore,
          bus,
          config: loadConfig({ GC_DEAD_LETTER_AGE: age }, "embedded"),
          metrics: { recordGc: (kind: string, removed: number) => counted.push([kind, removed]) } as never,
        }).find((job) => job.name === "gc.dead-letters");
      await jobFor("1h")?.run(new AbortController().signal);
      expect(await deadLetters()).toHaveLength(2);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await jobFor("0s")?.run(new AbortController().signal);
      expect(await deadLetters()).toEqual([]);
      expect(counted).toEqual([
        ["dead_letters", 0],
        ["dead_letters", 2],
      ]);
    } finally {
      await bus.close();
      await realStore.close();
    }
  });
});
