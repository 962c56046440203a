// The composition root's one scheduler: every role's periodic jobs in it, leader leases held by
// this process's instance id, and released (with the heartbeat record) by a clean stop.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROLES, startOrchestrator } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import { openPgliteStore } from "../../src/store/index.js";
import { freePort, workerPortRange } from "../support/ports.js";
import { until } from "../support/until.js";

let dir = "";
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("scheduled jobs of an orchestrator process", () => {
  it("runs every role's jobs in one scheduler, leads as its instance, and lets go at a stop", {
    timeout: 180_000,
  }, async () => {
    dir = await mkdtemp(join(tmpdir(), "orch-scheduler-"));
    const dataDir = join(dir, "data");
    const [low, high] = workerPortRange(33_000);
    const config = loadConfig(
      {
        ORCHESTRATOR_DATA_DIR: dataDir,
        ORCHESTRATOR_PORT: String(await freePort()),
        LOG_LEVEL: "warn",
        DEPLOY_PORT_RANGE: `${low}-${high}`,
      },
      "embedded",
    );
    const orchestrator = await startOrchestrator(config, {
      roles: ROLES,
      demo: true,
      announce: () => undefined,
    });
    const id = orchestrator.instance.id;
    let isStopped = false;
    try {
      const names = orchestrator.scheduler.state().map((job) => job.name);
      for (const name of [
        "instance.heartbeat",
        "workers.sweep",
        "runs.recover-engineering",
        "runs.recover-deploy",
        "deploy.monitor",
        "servers.health-check",
        "web-sessions.cleanup",
      ]) {
        expect(names).toContain(name);
      }
      // The recovery scans run at start on every engine; a cluster-wide job under a lease named
      // after this process.
      await until("the recovery scan and the session cleanup to run", 60_000, async () => {
        const state = orchestrator.scheduler.state();
        const ran = (name: string) => (state.find((job) => job.name === name)?.runs ?? 0) > 0;
        return ran("runs.recover-deploy") && ran("web-sessions.cleanup") ? true : null;
      });
      expect(await orchestrator.store.jobLeases.holder("web-sessions.cleanup")).toBe(id);
      expect(await orchestrator.store.jobLeases.holder("runs.recover-deploy")).toBeNull();
      expect(orchestrator.scheduler.state().every((job) => job.lastError === null)).toBe(true);
      // An operator sees the same from outside, without a token.
      const health = (await (await fetch(`${orchestrator.healthUrl}/health`)).json()) as {
        jobs: { name: string; scope: string; runs: number; isLeader: boolean; lastError: string | null }[];
      };
      const recover = health.jobs.find((job) => job.name === "runs.recover-deploy");
      expect(recover).toMatchObject({ scope: "every-process", isLeader: true, lastError: null });
      expect(recover?.runs).toBeGreaterThan(0);
      expect(health.jobs.find((job) => job.name === "web-sessions.cleanup")).toMatchObject({
        scope: "leader",
        isLeader: true,
      });
      expect(health.jobs.map((job) => job.name)).toContain("instance.heartbeat");
      await orchestrator.stop();
      isStopped = true;
    } finally {
      if (!isStopped) await orchestrator.stop();
    }
    // Another process sees at once that this one is gone and that its jobs are free.
    const store = await openPgliteStore(dataDir);
    try {
      expect(await store.jobLeases.holder("web-sessions.cleanup")).toBeNull();
      expect(await store.instances.get(id)).toBeNull();
    } finally {
      await store.close();
    }
  });
});
