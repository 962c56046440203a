/**
 * Redis, then PostgreSQL, restarted under a running cluster (api, 2 engine, workers, chat,
 * scheduler) while stages of running runs are under way. No role process is restarted: each must
 * reconnect by itself, keep its pid, and answer /health ok (store and bus) afterwards; every run
 * ends as its brief says, once.
 */
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workerPortRange } from "../support/ports.js";
import { type RoleCluster, startRoleCluster } from "../support/role-cluster.js";
import { until } from "../support/until.js";
import {
  database,
  type Outcome,
  openRuns,
  problemsOf,
  reliabilityPlaybook,
  type SeededRun,
  seedRun,
} from "./runs.js";
import { tally } from "./tally.js";

/** How long each service stays down: long enough for every process to notice. */
const DOWN_MS = 2_000;
const RUNS_PER_PHASE = 3;
/** How long the runs have to end after the restarts: a bound on liveness (CI shares two cores). */
const DRAIN_DEADLINE_MS = 300_000;

let cluster: RoleCluster;
let db: pg.Client | null = null;
const seeded: SeededRun[] = [];

beforeAll(async () => {
  cluster = await startRoleCluster({
    replicas: { api: 1, engine: 2, workers: 1, chat: 1, scheduler: 1 },
    playbook: reliabilityPlaybook(),
    env: {
      INSTANCE_TTL: "3s",
      ENGINE_LEASE_TTL: "6s",
      ENGINE_RECOVERY_INTERVAL: "1s",
      WORKER_SWEEP_INTERVAL: "2s",
      DEPLOY_PORT_RANGE: workerPortRange(28_000, 500).join("-"),
      PO_PROVIDER: "scripted",
    },
  });
}, 180_000);

afterAll(async () => {
  await db?.end().catch(() => undefined);
  if (cluster) {
    await cluster.stopRoles();
    console.log(
      `reliability restarts: the processes' output is in ${await cluster.saveLogs("reliability-restarts")}`,
    );
    await cluster.dispose();
  }
});

async function seedPhase(phase: string): Promise<void> {
  for (let i = 1; i <= RUNS_PER_PHASE; i++) {
    const outcome: Outcome = i % 3 === 0 ? "refused" : "green";
    seeded.push(await until("a run to be started", 30_000, () => seedRun(cluster, `${phase} ${i}`, outcome)));
  }
}

/**
 * Waits until a worker of a seeded run is up (a stage's calls to its workers node are in flight),
 * so the restart lands mid-stage rather than between runs.
 */
async function underWay(client: () => pg.Client): Promise<void> {
  await until("a stage to be under way", 60_000, async () => {
    const { rows } = await client().query<{ n: number }>(
      "SELECT count(*)::int AS n FROM workers WHERE state = 'running' AND run_id = ANY($1::uuid[])",
      [seeded.map((s) => s.runId)],
    );
    return (rows[0]?.n ?? 0) > 0 ? true : null;
  });
}

async function healthOf(url: string): Promise<{ status: number; checks: Record<string, string> }> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { checks: Record<string, string> };
  return { status: res.status, checks: body.checks };
}

describe("Redis and PostgreSQL restarted mid-run", () => {
  it("ends every run once, with every role process reconnected by itself", { timeout: 600_000 }, async () => {
    const pids = new Map(cluster.processes.map((p) => [p.name, p.proc.child.pid]));
    const connect = async () => {
      db = await database(cluster);
      // The restart below ends this connection too: the suite's own client reconnects after it.
      db.on("error", () => undefined);
    };
    const client = () => {
      if (!db) throw new Error("no database connection");
      return db;
    };
    await connect();

    await seedPhase("redis");
    await underWay(client);
    await cluster.redis.restart(DOWN_MS);

    await seedPhase("postgres");
    await underWay(client);
    await db?.end().catch(() => undefined);
    await cluster.pg.restart(DOWN_MS);
    await connect();

    await seedPhase("after");
    await until("every run to end", DRAIN_DEADLINE_MS, async () =>
      (await openRuns(client(), seeded)) === 0 ? true : null,
    ).catch(() => undefined);
    const problems = await problemsOf(client(), seeded);
    // Every process is the one started first (none exited and none was restarted), and healthy.
    const unwell: string[] = [];
    for (const p of cluster.processes) {
      if (p.proc.child.exitCode !== null || p.proc.child.signalCode !== null) {
        unwell.push(
          `${p.name} exited (${p.proc.child.exitCode ?? p.proc.child.signalCode}):\n${p.proc.output().slice(-2_000)}`,
        );
        continue;
      }
      if (p.proc.child.pid !== pids.get(p.name)) unwell.push(`${p.name} was restarted`);
      const health = await until(`${p.name} to be healthy`, 30_000, async () => {
        const h = await healthOf(p.url);
        return h.status === 200 ? h : null;
      }).catch(async () =>
        healthOf(p.url).catch((e: unknown) => ({ status: 0, checks: { error: String(e) } })),
      );
      if (health.status !== 200)
        unwell.push(`${p.name}: /health ${health.status} ${JSON.stringify(health.checks)}`);
    }
    const failedRuns = new Set(problems.map((line) => /run ([0-9a-f-]{36})/.exec(line)?.[1]));
    const phases = ["redis", "postgres", "after"];
    tally({
      suite: "restarts",
      what: "Redis and PostgreSQL restarted mid-run: runs ending once as expected",
      tried: seeded.length,
      failures: failedRuns.size,
    });
    tally({
      suite: "restarts",
      what: "role processes reconnecting by themselves (alive, /health ok)",
      tried: cluster.processes.length,
      failures: unwell.length,
    });
    console.log(`reliability restarts: ${seeded.length} runs over phases ${phases.join(", ")}`);
    // Each problem in the message: a log that keeps one line of a failure names them.
    expect(unwell, unwell.join(" | ")).toEqual([]);
    expect(problems, problems.join(" | ")).toEqual([]);
  });
});
