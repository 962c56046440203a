/**
 * A workers node lost in the middle of a stage, in the distributed mode as an operator runs it:
 * `serve --roles api,engine` and `serve --roles workers` on a real PostgreSQL and Redis. The
 * workers process is SIGKILLed while the Tester installs and started again on the same data
 * directory (the same node id). The engine notices through the node's heartbeat (a new
 * incarnation, or an expired lease), redoes the Tester on the restarted node, and the run succeeds;
 * nothing of the run is left on the node.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run, RunEvent, Worker } from "../../src/contracts/index.js";
import {
  architectScript,
  developerScript,
  type ScriptedPlaybook,
  timeAcceptanceFiles,
  timeRouteFiles,
} from "../../src/demo/index.js";
import {
  distributedEnv,
  type RunningCli,
  runCli,
  START_DEADLINE_MS,
  startCli,
  waitForHealth,
} from "../support/cli.js";
import { freePort, workerPortRange } from "../support/ports.js";
import { startPostgres, type TestPostgres } from "../support/postgres.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { until } from "../support/until.js";

/** Written by the template's install (npm runs the project's `preinstall`): the Tester is installing. */
const INSTALLING_MARKER = ".installing";
const TERMINAL: Run["status"][] = ["succeeded", "failed", "blocked", "cancelled"];
const LIVE: Worker["state"][] = ["starting", "running", "paused"];

/** The template's package.json with an install that says it started and takes a few seconds. */
async function slowInstallPackageJson(): Promise<string> {
  const template = await readFile(
    join(import.meta.dirname, "../../templates/builtin/web-service/package.json"),
    "utf8",
  );
  const manifest = JSON.parse(
    template.replaceAll("{{slug}}", "node-loss").replaceAll("{{description}}", "time"),
  );
  manifest.scripts.preinstall = `touch ${INSTALLING_MARKER} && sleep 4`;
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** The sandbox folder of the Tester that is installing now, if one is. */
async function installingSandbox(workersRoot: string): Promise<string | null> {
  for (const name of await readdir(workersRoot).catch(() => [] as string[])) {
    const marker = join(workersRoot, name, "workspace", INSTALLING_MARKER);
    if (
      await readFile(marker).then(
        () => true,
        () => false,
      )
    )
      return name;
  }
  return null;
}

describe("a workers node killed while the Tester installs", () => {
  let pg: TestPostgres;
  let redis: TestRedis;
  let root = "";
  const procs: RunningCli[] = [];

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    root = await mkdtemp(join(tmpdir(), "workers-node-loss-"));
  });
  afterAll(async () => {
    // SIGTERM: the engine stops what its deploy of the green commit may have started.
    for (const p of procs) await p.stop("SIGTERM");
    await Promise.all([pg?.stop(), redis?.stop()]);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("redoes the Tester on the restarted node and succeeds, leaving nothing behind", {
    timeout: 240_000,
  }, async () => {
    const playbook: ScriptedPlaybook = {
      architect: architectScript(
        "web-service",
        ["GET /api/time answers the current time"],
        timeAcceptanceFiles(),
      ),
      developer: [
        developerScript(
          { ...timeRouteFiles(), "package.json": await slowInstallPackageJson() },
          "Add GET /api/time with its test",
        ),
      ],
    };
    const playbookFile = join(root, "playbook.json");
    await writeFile(playbookFile, JSON.stringify(playbook));
    const [apiPort, workersPort] = [await freePort(), await freePort()];
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const base = distributedEnv(
      { databaseUrl: pg.url, redisUrl: redis.url, apiUrl },
      {
        DEPLOY_PORT_RANGE: workerPortRange(21_000).join("-"),
        // A stopped process counts as stopped after this long without a heartbeat.
        INSTANCE_TTL: "3s",
      },
    );
    const engine = startCli(["serve", "--roles", "api,engine"], {
      ...base,
      ORCHESTRATOR_DATA_DIR: join(root, "engine"),
      ORCHESTRATOR_PORT: String(apiPort),
    });
    procs.push(engine);
    await waitForHealth(`${apiUrl}/health`, START_DEADLINE_MS, engine);
    // Its own data directory (its node id and sandboxes), kept across the restart.
    const workersDir = join(root, "workers-node");
    const workersEnv = {
      ...base,
      ORCHESTRATOR_DATA_DIR: workersDir,
      ORCHESTRATOR_PORT: String(workersPort),
      SCRIPTED_PLAYBOOK: playbookFile,
    };
    const firstWorkers = startCli(["serve", "--roles", "workers"], workersEnv);
    procs.push(firstWorkers);

    const admin = await runCli(["admin", "token", "create", "--name", "node-loss"], base);
    const token = (admin.json.data as { token: string }).token;
    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as T;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    for (const node of ["architect", "developer"]) {
      await call("PATCH", `/api/agent-configs/${node}`, { backend: "scripted" });
    }
    const project = await call<{ id: string }>("POST", "/api/projects", { name: "node loss" });
    const started = await call<{ data: { id: string } }>("POST", "/api/tools/engineering.start", {
      projectId: project.id,
      brief: "A web service that tells the time.",
    });
    const runId = started.data.id;

    const sandboxes = join(workersDir, "workers");
    const killedTester = await until("the Tester's install", 150_000, () => installingSandbox(sandboxes));
    await firstWorkers.stop("SIGKILL");
    const killedAt = Date.now();
    const node = (await readFile(join(workersDir, "node-id"), "utf8")).trim();
    procs.push(startCli(["serve", "--roles", "workers"], workersEnv));

    const done = await until("the run to end", 150_000, async () => {
      const run = await call<Run>("GET", `/api/runs/${runId}`);
      return TERMINAL.includes(run.status) ? run : null;
    });
    const afterKillMs = Date.now() - killedAt;
    expect(done.status, `${JSON.stringify(done.error)} (${afterKillMs} ms after the kill)`).toBe("succeeded");

    const events = (await call<{ items: RunEvent[] }>("GET", `/api/runs/${runId}/events?limit=1000`)).items;
    const retried = events.filter((e) => e.type === "engineering.stage_retried");
    expect(retried).toHaveLength(1);
    expect(retried[0]?.data).toMatchObject({ stage: "tester", node, workerId: killedTester, retry: 1 });
    expect(String(retried[0]?.data.reason)).toMatch(
      new RegExp(
        `^workers node ${node} (restarted while the call was running|stopped answering: last heartbeat)`,
      ),
    );
    const verdicts = events.filter((e) => e.type === "engineering.tested");
    expect(verdicts.map((e) => e.data.passed)).toEqual([true]);

    // The Tester ran again on the restarted node; every worker of the run has ended.
    const workers = (await call<{ items: Worker[] }>("GET", `/api/workers?projectId=${project.id}&limit=100`))
      .items;
    const testers = workers.filter((w) => w.role === "tester");
    expect(testers.map((w) => w.id)).toContain(killedTester);
    expect(testers).toHaveLength(2);
    expect(testers.every((w) => w.labels["orchestrator.node"] === node)).toBe(true);
    expect(workers.filter((w) => LIVE.includes(w.state))).toEqual([]);
    // No sandbox of the run is left on the node, the killed Tester's included.
    expect((await readdir(sandboxes)).filter((name) => !name.startsWith("."))).toEqual([]);
  });
});
