/**
 * kill -9 of every role at random moments of many small runs, on the distributed mode as operators
 * run it (2 api behind a front, 2 engine, 2 workers, 1 chat, 1 scheduler on one PostgreSQL and one
 * Redis). Each killed process is started again (same port and data directory) while the runs go
 * on. Every run must still end as its brief says it would have without the kills, exactly once:
 * one terminal event, one deploy of a green commit made live once. Then the cluster is stopped and
 * nothing of it may be left: live worker records, processes, deploy ports, sandboxes, checkouts.
 * The kill schedule comes from a seeded random source; the seed is printed (RELIABILITY_SEED replays it).
 */

import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workerPortRange } from "../support/ports.js";
import {
  ROLES,
  type Role,
  type RoleCluster,
  type RoleProcess,
  startRoleCluster,
} from "../support/role-cluster.js";
import { until } from "../support/until.js";
import { entriesOf, listeningPorts, liveWorkers, processesUnder } from "./orphans.js";
import {
  database,
  type Outcome,
  openRuns,
  problemsOf,
  reliabilityPlaybook,
  type SeededRun,
  seedRun,
} from "./runs.js";
import { seededRandom, seedFromEnv } from "./seeded-random.js";
import { tally } from "./tally.js";

const KILLS = 50;
/** Runs in flight at once while the kills go on, and at most this many in all. */
const IN_FLIGHT = 3;
const MAX_RUNS = 30;
const KILL_GAP_MS: [number, number] = [500, 2_000];
/** Processes down at once at most: each restart costs a Node start on the same two cores. */
const MAX_DOWN = 3;
/**
 * How long the runs have to end once the kills stop: a bound on liveness, not a measure of speed.
 * In CI this suite shares two cores with the heaviest others, where a run alone takes minutes.
 */
const DRAIN_DEADLINE_MS = 300_000;
const PORTS = workerPortRange(27_000, 500);

const random = seededRandom(seedFromEnv());
let cluster: RoleCluster;
let db: pg.Client;
const seeded: SeededRun[] = [];
/** Set once the suite stops the cluster: a kill loop outliving its test's timeout ends then. */
let isStopping = false;
const kills = new Map<Role, number>(ROLES.map((role) => [role, 0]));
/** Processes that ended without being killed by the suite (a crash), by role. */
const crashes = new Map<Role, number>(ROLES.map((role) => [role, 0]));

beforeAll(async () => {
  console.log(`reliability kills: seed ${random.seed} (RELIABILITY_SEED=${random.seed} replays it)`);
  cluster = await startRoleCluster({
    replicas: { api: 2, engine: 2, workers: 2, chat: 1, scheduler: 1 },
    playbook: reliabilityPlaybook(),
    env: {
      INSTANCE_TTL: "5s",
      ENGINE_LEASE_TTL: "8s",
      ENGINE_RECOVERY_INTERVAL: "1s",
      WORKER_SWEEP_INTERVAL: "2s",
      DEPLOY_PORT_RANGE: PORTS.join("-"),
      PO_PROVIDER: "scripted",
    },
  });
  db = await database(cluster);
}, 180_000);

afterAll(async () => {
  isStopping = true;
  await db?.end().catch(() => undefined);
  if (cluster) {
    await cluster.stopRoles();
    console.log(
      `reliability kills: the processes' output is in ${await cluster.saveLogs("reliability-kills")}`,
    );
    await cluster.dispose();
  }
});

/**
 * A slot whose process is up, of a random role that has one; a role with replicas keeps one up
 * (as in a rolling restart), so the runs never wait for a role that is wholly gone.
 */
function victim(down: ReadonlySet<RoleProcess>): RoleProcess | null {
  const isUp = (p: RoleProcess) => !down.has(p) && p.proc.child.exitCode === null;
  const candidates = cluster.processes.filter((p) => {
    if (!isUp(p)) return false;
    const mine = cluster.processes.filter((q) => q.role === p.role);
    return mine.length === 1 || mine.filter(isUp).length > 1;
  });
  const roles = ROLES.filter((role) => candidates.some((p) => p.role === role));
  if (roles.length === 0) return null;
  const role = random.pick(roles);
  return random.pick(candidates.filter((p) => p.role === role));
}

describe("kill -9 of each role at random moments of the runs", () => {
  it(`ends every run as it would have without ${KILLS} kills, once`, { timeout: 900_000 }, async () => {
    const down = new Set<RoleProcess>();
    const restarts: Promise<void>[] = [];
    let seededCount = 0;
    const seedMore = async () => {
      while (seeded.length < MAX_RUNS && (await openRuns(db, seeded)) < IN_FLIGHT) {
        seededCount += 1;
        // One brief in three is refused, so the expected terminal states differ.
        const outcome: Outcome = seededCount % 3 === 0 ? "refused" : "green";
        seeded.push(
          await until("a run to be started", 30_000, () => seedRun(cluster, `kills ${seededCount}`, outcome)),
        );
      }
    };

    let killed = 0;
    while (killed < KILLS && !isStopping) {
      await seedMore();
      await sleep(random.between(...KILL_GAP_MS));
      if (down.size >= MAX_DOWN) continue;
      const p = victim(down);
      if (!p) continue;
      down.add(p);
      await cluster.kill(p);
      killed += 1;
      kills.set(p.role, (kills.get(p.role) ?? 0) + 1);
      restarts.push(
        cluster
          .replace(p)
          .catch((error: unknown) => {
            console.error(`reliability kills: ${p.name} did not come back: ${String(error)}`);
            crashes.set(p.role, (crashes.get(p.role) ?? 0) + 1);
          })
          .finally(() => {
            down.delete(p);
          }),
      );
    }
    await Promise.all(restarts);

    // Nothing ended on its own: each slot's process is the one started after its last kill.
    for (const p of cluster.processes) {
      if (p.proc.child.exitCode !== null || p.proc.child.signalCode !== null) {
        crashes.set(p.role, (crashes.get(p.role) ?? 0) + 1);
      }
    }
    await until(
      "every run to end",
      DRAIN_DEADLINE_MS,
      async () => ((await openRuns(db, seeded)) === 0 ? true : null),
      1_000,
    ).catch(() => undefined);
    const problems = await problemsOf(db, seeded);
    const failedRuns = new Set(problems.map((line) => /run ([0-9a-f-]{36})/.exec(line)?.[1]));

    for (const role of ROLES) {
      tally({
        suite: "kills",
        what: `kill -9 of ${role} mid-run`,
        tried: kills.get(role) ?? 0,
        failures: crashes.get(role) ?? 0,
      });
    }
    tally({
      suite: "kills",
      what: "runs ending as without the kills, once",
      tried: seeded.length,
      failures: failedRuns.size,
    });
    console.log(
      `reliability kills: ${killed} kills (${ROLES.map((r) => `${r} ${kills.get(r)}`).join(", ")}), ` +
        `${seeded.length} runs (${seeded.filter((s) => s.outcome === "refused").length} refused)`,
    );
    // The seed and each problem in the message: a log that keeps one line of a failure names them.
    expect(problems, `seed ${random.seed}: ${problems.join(" | ")}`).toEqual([]);
    expect(Object.fromEntries(crashes)).toEqual(Object.fromEntries(ROLES.map((r) => [r, 0])));
    for (const role of ROLES) expect(kills.get(role), role).toBeGreaterThan(0);
    expect(killed).toBeGreaterThanOrEqual(KILLS);
  });

  it("leaves nothing behind once the cluster is stopped", { timeout: 120_000 }, async () => {
    // The releases of an engine killed last are adopted by a live one (its heartbeat expires).
    await until("every release to have a live owner", 30_000, async () => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM release_owners r
          WHERE r.release IS NOT NULL AND NOT EXISTS
            (SELECT 1 FROM instances i WHERE i.id = r.owner_id AND i.expires_at > now())`,
      );
      return rows[0]?.n === 0 ? true : null;
    });
    isStopping = true;
    await cluster.stopRoles();
    const checks: [string, string[]][] = [
      ["worker records left live", await liveWorkers(db)],
      ["processes left from the cluster's directories", await processesUnder(cluster.root)],
      [
        `listening ports left in ${PORTS.join("-")} and the roles' ports`,
        [
          ...(await listeningPorts(...PORTS)),
          ...(await Promise.all(cluster.processes.map((p) => listeningPorts(p.port, p.port)))).flat(),
        ].map(String),
      ],
      [
        "sandboxes and checkouts left",
        await entriesOf([
          ...cluster.processes.filter((p) => p.role === "workers").map((p) => join(p.dataDir, "workers")),
          join(cluster.root, "shared", "engine"),
        ]),
      ],
    ];
    for (const [what, left] of checks)
      tally({ suite: "orphans", what, tried: 1, failures: left.length === 0 ? 0 : 1 });
    expect(Object.fromEntries(checks)).toEqual(Object.fromEntries(checks.map(([what]) => [what, []])));
  });
});
