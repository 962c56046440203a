/**
 * The runs the reliability suites put through a role cluster, and the check of how they ended.
 * Each run's outcome is fixed by its brief, so "the terminal state it would have reached without the
 * kill" is known before it starts: a `green` brief builds a tiny HTTP service (no dependencies, a
 * second of tests) that is then deployed with the local driver; a `refused` brief makes the scripted
 * Developer's first step fail every time, so the run fails without a commit and deploys nothing.
 */
import pg from "pg";
import { architectScript, developerScript, type ScriptedPlaybook } from "../../src/demo/index.js";
import { ACCEPTANCE_RUNNER } from "../support/light-project.js";
import type { RoleCluster } from "../support/role-cluster.js";

export type Outcome = "green" | "refused";

/** The marker a `refused` brief carries; the Developer's first step fails when TASK.md holds it. */
const REFUSE_MARKER = "REFUSE-THIS-BRIEF";
const TERMINAL = ["succeeded", "failed", "blocked", "cancelled"];
/** What an engineering run of each brief ends as, and whether its commit is deployed. */
export const EXPECTED: Record<Outcome, { engineering: string; deploy: "succeeded" | null }> = {
  green: { engineering: "succeeded", deploy: "succeeded" },
  refused: { engineering: "failed", deploy: null },
};

const test = (name: string, body: string, from: string) =>
  [
    'import assert from "node:assert/strict";',
    'import { test } from "node:test";',
    `import { answer } from "${from}";`,
    "",
    `test(${JSON.stringify(name)}, () => {`,
    `  ${body}`,
    "});",
    "",
  ].join("\n");

const PACKAGE_JSON = `${JSON.stringify(
  {
    name: "reliability-service",
    version: "0.1.0",
    private: true,
    type: "module",
    scripts: {
      test: "node --test test/answer.test.mjs",
      build:
        "mkdir -p dist/src && cp src/main.mjs src/answer.mjs dist/src/ && mv dist/src/main.mjs dist/src/main.js",
    },
  },
  null,
  2,
)}\n`;

const PACKAGE_LOCK = `${JSON.stringify(
  {
    name: "reliability-service",
    version: "0.1.0",
    lockfileVersion: 3,
    requires: true,
    packages: { "": { name: "reliability-service", version: "0.1.0" } },
  },
  null,
  2,
)}\n`;

/** The service the template's start command (`node dist/src/main.js`) runs: /health and /ping. */
const MAIN = [
  'import { createServer } from "node:http";',
  'import { answer } from "./answer.mjs";',
  "const server = createServer((req, res) => {",
  '  const body = req.url === "/ping" ? { answer: answer("ping") } : { status: "ok" };',
  '  res.writeHead(200, { "content-type": "application/json" });',
  "  res.end(JSON.stringify(body));",
  "});",
  "server.listen(Number(process.env.PORT ?? 3000));",
  'process.on("SIGTERM", () => server.close(() => process.exit(0)));',
  "",
].join("\n");

/** The scripted agents' playbook for both kinds of brief. */
export function reliabilityPlaybook(): ScriptedPlaybook {
  const develop = developerScript(
    {
      "package.json": PACKAGE_JSON,
      "package-lock.json": PACKAGE_LOCK,
      "src/answer.mjs": 'export const answer = (q) => (q === "ping" ? "pong" : "?");\n',
      "src/main.mjs": MAIN,
      "test/answer.test.mjs": test(
        "anything else is a question mark",
        'assert.equal(answer("x"), "?");',
        "../src/answer.mjs",
      ),
    },
    "Answer ping with pong",
  );
  return {
    architect: architectScript("web-service", ["ping is answered with pong"], {
      "test/acceptance/run.mjs": ACCEPTANCE_RUNNER,
      "test/acceptance/ping.test.mjs": test(
        "ping is pong",
        'assert.equal(answer("ping"), "pong");',
        "../../src/answer.mjs",
      ),
    }),
    developer: [
      {
        steps: [{ run: { argv: ["sh", "-c", `! grep -q ${REFUSE_MARKER} TASK.md`] } }, ...develop.steps],
      },
    ],
  };
}

/** A project and its engineering run, with the outcome its brief was written for. */
export interface SeededRun {
  projectId: string;
  runId: string;
  outcome: Outcome;
}

/** Creates a project and starts its engineering run through the API. */
export async function seedRun(cluster: RoleCluster, name: string, outcome: Outcome): Promise<SeededRun> {
  const project = await cluster.call<{ id: string }>("POST", "/api/projects", { name });
  const brief =
    outcome === "green"
      ? "A service that answers ping with pong."
      : `A service that answers ping with pong. ${REFUSE_MARKER}`;
  const run = await cluster.call<{ id: string }>("POST", "/api/tools/engineering.start", {
    projectId: project.id,
    brief,
  });
  return { projectId: project.id, runId: run.id, outcome };
}

interface RunRow {
  id: string;
  project_id: string;
  kind: string;
  status: string;
  source: string | null;
  terminal_events: number;
  error: { code: string; message: string } | null;
}

/** A direct connection to the cluster's database, for the checks. */
export async function database(cluster: RoleCluster): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: cluster.pg.url });
  await db.connect();
  return db;
}

/** How many of `seeded` have not ended (engineering and, for green ones, the deploy). */
export async function openRuns(db: pg.Client, seeded: readonly SeededRun[]): Promise<number> {
  const rows = await readRuns(db, seeded);
  const open = seeded.filter((s) => {
    const mine = rows.filter((r) => r.project_id === s.projectId);
    const engineering = mine.find((r) => r.id === s.runId);
    if (!engineering || !TERMINAL.includes(engineering.status)) return true;
    // Only a green run goes on to a deploy (whatever the brief expected).
    if (engineering.status !== "succeeded") return false;
    const deploys = mine.filter((r) => r.kind === "deploy");
    return deploys.length === 0 || deploys.some((d) => !TERMINAL.includes(d.status));
  });
  return open.length;
}

async function readRuns(db: pg.Client, seeded: readonly SeededRun[]): Promise<RunRow[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT r.id, r.project_id, r.kind, r.status, r.error, r.input->>'sourceRunId' AS source,
            (SELECT count(*)::int FROM run_events e
              WHERE e.run_id = r.id AND e.type = 'run.status_changed' AND e.data->>'to' = ANY($2)) AS terminal_events
       FROM runs r WHERE r.project_id = ANY($1::uuid[])`,
    [seeded.map((s) => s.projectId), TERMINAL],
  );
  return rows;
}

/**
 * Everything wrong with how the seeded runs ended, one line each: an engineering run not in its
 * expected terminal status, a run with other than one terminal status event, a green run without
 * exactly one succeeded deploy of its commit, a refused one with a deploy, a deployment of a commit
 * made twice, or one left pending.
 */
export async function problemsOf(db: pg.Client, seeded: readonly SeededRun[]): Promise<string[]> {
  const rows = await readRuns(db, seeded);
  const { rows: deployments } = await db.query<{ project_id: string; commit_sha: string; status: string }>(
    "SELECT project_id, commit_sha, status FROM deployments WHERE project_id = ANY($1::uuid[])",
    [seeded.map((s) => s.projectId)],
  );
  const problems: string[] = [];
  for (const s of seeded) {
    const mine = rows.filter((r) => r.project_id === s.projectId);
    const expected = EXPECTED[s.outcome];
    const engineering = mine.filter((r) => r.kind === "engineering");
    const deploys = mine.filter((r) => r.kind === "deploy");
    const run = engineering.find((r) => r.id === s.runId);
    const label = `${s.outcome} run ${s.runId}`;
    if (engineering.length !== 1) problems.push(`${label}: ${engineering.length} engineering runs`);
    if (!run) continue;
    if (run.status !== expected.engineering) {
      problems.push(
        `${label}: ${run.status}, expected ${expected.engineering} (${JSON.stringify(run.error)})`,
      );
    }
    for (const r of mine) {
      if (r.terminal_events !== 1)
        problems.push(`${r.kind} run ${r.id}: ${r.terminal_events} terminal events`);
    }
    if (expected.deploy === null) {
      if (deploys.length > 0) problems.push(`${label}: ${deploys.length} deploy runs, expected none`);
      continue;
    }
    if (deploys.length !== 1) problems.push(`${label}: ${deploys.length} deploy runs, expected one`);
    for (const d of deploys) {
      if (d.source !== s.runId) problems.push(`${label}: deploy ${d.id} from ${d.source}`);
      if (d.status !== expected.deploy) {
        problems.push(
          `${label}: deploy ${d.id} ${d.status}, expected ${expected.deploy} (${JSON.stringify(d.error)})`,
        );
      }
    }
    const mineDeployed = deployments.filter((d) => d.project_id === s.projectId);
    // A killed attempt may be recorded failed; a commit made live twice is a duplicate deployment.
    const live = mineDeployed.filter((d) => ["healthy", "superseded", "rolled_back"].includes(d.status));
    if (live.length !== 1 || live[0]?.status !== "healthy") {
      problems.push(
        `${label}: deployments ${mineDeployed.map((d) => d.status).join(", ")}, expected one healthy`,
      );
    }
    const pending = mineDeployed.filter((d) => d.status === "pending" || d.status === "in_progress");
    if (pending.length > 0)
      problems.push(`${label}: ${pending.length} deployments left ${pending[0]?.status}`);
  }
  return problems;
}
