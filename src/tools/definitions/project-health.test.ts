import { describe, expect, it } from "vitest";
import type { Deployment, Instance, Run, Server } from "../../contracts/index.js";
import type { ReleaseOwner } from "../../store/index.js";
import { type HealthEvidence, healthOf } from "./project-health.js";

const PROJECT = "11111111-1111-4111-8111-111111111111";
const GATE_AT = "2025-01-10T10:00:00.000Z";
const LATER = "2025-01-10T12:00:00.000Z";
const EARLIER = "2025-01-10T08:00:00.000Z";

function deployment(over: Partial<Deployment> = {}): Deployment {
  return {
    id: "22222222-2222-4222-8222-222222222222",
    projectId: PROJECT,
    runId: null,
    serverId: "33333333-3333-4333-8333-333333333333",
    commitSha: "a".repeat(40),
    release: "r-1",
    url: "http://127.0.0.1:4100",
    status: "healthy",
    healthCheck: { kind: "http", ok: true },
    logsExcerpt: null,
    createdAt: EARLIER,
    finishedAt: GATE_AT,
    ...over,
  };
}

function deployRun(over: Partial<Run>, restoredPrevious: boolean): Run {
  return {
    id: "44444444-4444-4444-8444-444444444444",
    projectId: PROJECT,
    kind: "deploy",
    status: "failed",
    stage: "rollback",
    attempt: 0,
    iteration: 0,
    input: { projectId: PROJECT, action: "deploy", commit: "c".repeat(40), sourceRunId: null },
    result: {
      outcome: "failed",
      action: "deploy",
      commit: "c".repeat(40),
      release: "r-2",
      deploymentId: null,
      url: null,
      botUsername: null,
      missing: [],
      restoredPrevious,
      summary: "gate failed",
    },
    error: { code: "health_gate_failed", message: "the release did not pass its health gate" },
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    budgetUsd: null,
    traceId: null,
    createdAt: GATE_AT,
    startedAt: GATE_AT,
    finishedAt: LATER,
    ...over,
  };
}

function server(over: Partial<Server>): Server {
  return {
    id: "33333333-3333-4333-8333-333333333333",
    handle: "box-1",
    host: "10.0.0.5",
    sshPort: 22,
    sshUser: "root",
    hasSshKey: true,
    capacity: null,
    status: "ready",
    lastHealthCheckAt: LATER,
    lastError: null,
    createdAt: EARLIER,
    updatedAt: LATER,
    ...over,
  };
}

const engine = { id: "engine-a", incarnation: "inc-1" };
function owner(over: Partial<ReleaseOwner> = {}): ReleaseOwner {
  return {
    projectId: PROJECT,
    release: "r-1",
    port: 4100,
    owner: engine,
    host: "here",
    pid: 4242,
    handover: null,
    version: 1,
    updatedAt: LATER,
    ...over,
  };
}
function instance(over: Partial<Instance> = {}): Instance {
  return {
    id: "engine-a",
    roles: ["engine"],
    incarnation: "inc-1",
    host: "here",
    pid: 1,
    startedAt: EARLIER,
    heartbeatAt: LATER,
    expiresAt: LATER,
    alive: true,
    probeUrl: null,
    ...over,
  };
}

const evidence = (over: Partial<HealthEvidence>): HealthEvidence => ({
  serving: deployment(),
  latest: deployment(),
  deployRuns: [],
  server: null,
  owner: null,
  ownerInstance: null,
  ...over,
});

describe("healthOf", () => {
  it("is none, with why, when nothing serves", () => {
    expect(healthOf(evidence({ serving: null, latest: null })).health).toMatchObject({
      state: "none",
      checkedAt: null,
      reason: "never deployed",
    });
    const torn = healthOf(
      evidence({ serving: null, latest: deployment({ status: "stopped", finishedAt: LATER }) }),
    );
    expect(torn).toEqual({
      health: {
        state: "none",
        checkedAt: LATER,
        basis: "deployments",
        reason: "torn down",
        deploymentId: null,
        url: null,
      },
      liveSince: null,
    });
    expect(
      healthOf(evidence({ serving: null, latest: deployment({ status: "failed" }) })).health.reason,
    ).toContain("health gate");
  });

  it("is live since the health gate passed when nothing recorded since says otherwise", () => {
    const live = healthOf(evidence({ server: server({}), owner: owner(), ownerInstance: instance() }));
    expect(live).toEqual({
      health: {
        state: "live",
        checkedAt: GATE_AT,
        basis: "health_gate",
        reason: null,
        deploymentId: deployment().id,
        url: "http://127.0.0.1:4100",
      },
      liveSince: GATE_AT,
    });
  });

  it("is down after a deploy that rolled back without bringing the release back, live again when it did", () => {
    const down = healthOf(evidence({ deployRuns: [deployRun({}, false)] }));
    expect(down.health).toMatchObject({ state: "down", checkedAt: LATER, basis: "deploy_run" });
    expect(down.health.reason).toContain("health_gate_failed");
    expect(down.liveSince).toBeNull();
    const restored = healthOf(evidence({ deployRuns: [deployRun({}, true)] }));
    expect(restored.health).toMatchObject({ state: "live", checkedAt: LATER, basis: "deploy_run" });
    expect(restored.liveSince).toBe(LATER);
    // A rollback before the serving release passed its gate is history, and a deploy that never
    // started its release (blocked before the rollback stage) changed nothing.
    expect(healthOf(evidence({ deployRuns: [deployRun({ finishedAt: EARLIER }, false)] })).health.state).toBe(
      "live",
    );
    expect(
      healthOf(evidence({ deployRuns: [deployRun({ status: "blocked", stage: "readiness" }, false)] })).health
        .state,
    ).toBe("live");
  });

  it("reads the local supervisor: no live engine holding the release is down, a restart unknown", () => {
    const given = healthOf(evidence({ owner: owner({ owner: null, pid: null }) }));
    expect(given.health).toMatchObject({ state: "down", basis: "release_owner", checkedAt: LATER });
    expect(
      healthOf(evidence({ owner: owner(), ownerInstance: instance({ alive: false }) })).health.state,
    ).toBe("down");
    expect(
      healthOf(evidence({ owner: owner(), ownerInstance: instance({ incarnation: "inc-2" }) })).health.state,
    ).toBe("down");
    expect(healthOf(evidence({ owner: owner(), ownerInstance: null })).health.state).toBe("down");
    expect(
      healthOf(evidence({ owner: owner({ pid: null }), ownerInstance: instance() })).health,
    ).toMatchObject({
      state: "unknown",
      basis: "release_owner",
    });
    // A record about another release (a deploy under way) says nothing about this one.
    expect(healthOf(evidence({ owner: owner({ release: "r-2", owner: null }) })).health.state).toBe("live");
  });

  it("reads the server's checks: a failed check after the gate is unknown, a removed server down", () => {
    const failing = healthOf(evidence({ server: server({ status: "error", lastError: "ssh: timeout" }) }));
    expect(failing.health).toMatchObject({
      state: "unknown",
      checkedAt: LATER,
      basis: "server_check",
      reason: "server box-1 failed its last check: ssh: timeout",
    });
    expect(failing.liveSince).toBeNull();
    const stale = server({ status: "error", lastHealthCheckAt: EARLIER });
    expect(healthOf(evidence({ server: stale })).health.state).toBe("live");
    expect(healthOf(evidence({ server: server({ status: "removed" }) })).health.state).toBe("down");
  });

  it("lets the most severe verdict win", () => {
    const both = healthOf(
      evidence({
        server: server({ status: "error" }),
        deployRuns: [deployRun({}, false)],
      }),
    );
    expect(both.health).toMatchObject({ state: "down", basis: "deploy_run" });
  });

  it("is down while the health monitor has an incident of the serving release open", () => {
    const incident = {
      id: "55555555-5555-4555-8555-555555555555",
      projectId: PROJECT,
      deploymentId: deployment().id,
      status: "open" as const,
      reason: "status 500",
      restarts: 3,
      repairRunId: null,
      repairStartedAt: null,
      openedAt: LATER,
      closedAt: null,
    };
    const down = healthOf(evidence({ incident }));
    expect(down.health).toMatchObject({
      state: "down",
      checkedAt: LATER,
      basis: "health_monitor",
      reason: "the health monitor found it down: status 500",
    });
    expect(down.liveSince).toBeNull();
    // An incident of another deployment says nothing about this one.
    const other = { ...incident, deploymentId: "66666666-6666-4666-8666-666666666666" };
    expect(healthOf(evidence({ incident: other })).health.state).toBe("live");
  });
});
