import { describe, expect, it } from "vitest";
import type { Bus } from "../bus/index.js";
import { loadConfig } from "../config/index.js";
import { ServerService } from "../deploy/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import { Scheduler } from "../scheduler/index.js";
import type { Vault } from "../secrets/index.js";
import type { Store } from "../store/index.js";
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
});
