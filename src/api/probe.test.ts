import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { issueToken } from "../auth/index.js";
import { InProcessBus } from "../bus/index.js";
import { createLogger, createMetrics, SecretRedactor } from "../observability/index.js";
import type { JobState } from "../scheduler/index.js";
import type { Store } from "../store/index.js";
import { type Api, buildProbeApi } from "./index.js";

// What an engine or a workers process without the API listens with.
describe("the health and metrics listener of a process without the api role", () => {
  // A job that failed once: shown with its error, without making the process degraded.
  const sweep: JobState = {
    name: "workers.sweep",
    scope: "every-process",
    intervalMs: 30_000,
    runs: 4,
    failures: 1,
    lastStartedAt: "2026-12-02T09:59:59.000Z",
    lastFinishedAt: "2026-12-02T10:00:00.000Z",
    lastError: "sandbox listing failed",
    isRunning: false,
    isLeader: true,
  };
  let store: Store;
  let bus: InProcessBus;
  let probe: Api;
  let token: string;
  let dockerUp = true;

  beforeAll(async () => {
    store = await openTestStore();
    bus = new InProcessBus();
    token = (await issueToken(store, { name: "admin", kind: "admin" })).token;
    probe = buildProbeApi({
      store,
      bus,
      metrics: createMetrics({ roles: ["workers"] }),
      logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
      version: "1.2.3",
      process: {
        roles: ["workers"],
        instanceId: "node-test",
        checks: {
          docker: async () => {
            if (!dockerUp) throw new Error("connect ENOENT /var/run/docker.sock");
          },
        },
        jobs: () => [sweep],
      },
    });
  });
  afterAll(async () => {
    await probe.close();
    await bus.close();
    await store.close();
  });

  it("answers /health with its roles, its instance and each check", async () => {
    const res = await probe.inject({ method: "GET", url: "/health" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: "ok",
      version: "1.2.3",
      roles: ["workers"],
      instance: "node-test",
      checks: { store: "ok", bus: "ok", docker: "ok" },
      jobs: [
        {
          name: "workers.sweep",
          scope: "every-process",
          intervalMs: 30_000,
          runs: 4,
          failures: 1,
          lastFinishedAt: "2026-12-02T10:00:00.000Z",
          lastError: "sandbox listing failed",
          isRunning: false,
          isLeader: true,
        },
      ],
    });
  });

  it("says degraded (503) and why when a check fails", async () => {
    dockerUp = false;
    try {
      const res = await probe.inject({ method: "GET", url: "/health" });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({
        status: "degraded",
        checks: { store: "ok", docker: "failed: connect ENOENT /var/run/docker.sock" },
      });
    } finally {
      dockerUp = true;
    }
  });

  it("serves /metrics to a token only, every sample labelled with the role", async () => {
    expect((await probe.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(401);
    const res = await probe.inject({
      method: "GET",
      url: "/metrics",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
    const samples = res.body.split("\n").filter((line) => line && !line.startsWith("#"));
    expect(samples.length).toBeGreaterThan(10);
    for (const sample of samples) expect(sample).toContain('role="workers"');
  });

  it("has no API routes", async () => {
    const res = await probe.inject({
      method: "GET",
      url: "/api/projects",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(404);
  });
});
