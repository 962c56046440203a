/**
 * Durability of an engineering run, with the built binary as a user runs it: under `up --demo`
 * (scripted agents playing the light project of test/support/light-project.ts) the CLI starts a run, the process is SIGKILLed between Developer and Tester, `up` again resumes the run from its
 * checkpoint and finishes it. Exactly one repository, and no commit made twice by a replayed stage.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { Run, RunEvent, Worker } from "../../src/contracts/index.js";
import { basicAuthEnv } from "../../src/git/index.js";
import { type RunningCli, runCli, START_DEADLINE_MS, startCli, waitForHealth } from "../support/cli.js";
import { lightPlaybook } from "../support/light-project.js";
import { freePort, workerPortRange } from "../support/ports.js";
import { until } from "../support/until.js";

const run = promisify(execFile);
const procs: RunningCli[] = [];
let root = "";

afterAll(async () => {
  for (const p of procs) await p.stop("SIGKILL");
  if (root) await rm(root, { recursive: true, force: true });
});

describe("an engineering run survives its engine being killed", () => {
  it("resumes from the checkpoint after SIGKILL between Developer and Tester", {
    timeout: 300_000,
  }, async () => {
    root = await mkdtemp(join(tmpdir(), "engineering-restart-"));
    const dataDir = join(root, "data");
    const playbookFile = join(root, "playbook.json");
    await writeFile(playbookFile, JSON.stringify(lightPlaybook()));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ORCHESTRATOR_DATA_DIR: dataDir,
      ORCHESTRATOR_PORT: String(port),
      ENGINE_LEASE_TTL: "2s",
      DEPLOY_PORT_RANGE: workerPortRange(20_000).join("-"),
      ENGINE_RECOVERY_INTERVAL: "1s",
      SCRIPTED_PLAYBOOK: playbookFile,
    };
    const first = startCli(["up", "--demo"], env);
    procs.push(first);
    await waitForHealth(`${base}/health`, START_DEADLINE_MS, first);
    expect(first.output()).toContain("Demo mode: agents are scripted");
    // The demo points at its web chat on this instance's URL; the run is started as a user would.
    await expect
      .poll(() => first.output(), { timeout: 30_000 })
      .toContain(`Open the web chat: ${base}/#token=`);
    const cli = { ...env, ORCHESTRATOR_API_URL: base };
    const created = await runCli(["project", "create", "--name", "restart demo"], cli);
    const projectId = (JSON.parse(created.stdout) as { data: { id: string } }).data.id;
    const started = await runCli(
      ["engineering", "start", "--project-id", projectId, "--brief", "a web service that tells the time"],
      cli,
    );
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const runId = (JSON.parse(started.stdout) as { data: { id: string } }).data.id;
    const token = (await readFile(join(dataDir, "admin.token"), "utf8")).trim();
    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      return (await res.json()) as T;
    };
    const stages = async () =>
      (await get<{ items: RunEvent[] }>(`/api/runs/${runId}/events?limit=1000`)).items
        .filter((e) => e.type === "run.stage_changed")
        .map((e) => e.data.stage);

    await until("the tester stage", 120_000, async () => ((await stages()).includes("tester") ? true : null));
    await first.stop("SIGKILL");
    const interrupted = await (async () => {
      const second = startCli(["up"], env);
      procs.push(second);
      await waitForHealth(`${base}/health`, START_DEADLINE_MS, second);
      return second;
    })();

    const done = await until("the run to end", 240_000, async () => {
      const r = await get<Run>(`/api/runs/${runId}`);
      return ["succeeded", "failed", "blocked", "cancelled"].includes(r.status) ? r : null;
    });
    expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
    // Architect, Preparer and Developer ran once; only the interrupted Tester ran again.
    expect(await stages()).toEqual(["architect", "preparer", "developer", "tester", "tester"]);
    const events = (await get<{ items: RunEvent[] }>(`/api/runs/${runId}/events?limit=1000`)).items;
    expect(
      events.some((e) => e.type === "run.log" && String(e.data.message).includes("resuming from checkpoint")),
    ).toBe(true);

    // Exactly one repository, with the preparer's and the developer's commits once each.
    const repos = (await readdir(join(dataDir, "git"))).filter((name) => name.endsWith(".git"));
    expect(repos).toHaveLength(1);
    const clone = join(dataDir, "verify-clone");
    await run("git", ["clone", "--quiet", `${base}/git/${repos[0]}`, clone], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0", ...basicAuthEnv(token) },
    });
    const log = (await run("git", ["log", "--format=%H %s"], { cwd: clone })).stdout.trim().split("\n");
    expect(log).toHaveLength(2);
    expect(log[0]?.split(" ")[0]).toBe((done.result as { commit: string }).commit);

    // The killed process's tester sandbox was collected; nothing of the run is left alive.
    const workers = await get<{ items: Worker[] }>(`/api/workers?projectId=${done.projectId}&limit=100`);
    expect(workers.items.filter((w) => ["starting", "running", "paused"].includes(w.state))).toEqual([]);
    expect(await interrupted.stop("SIGTERM")).toBe(0);
  });
});
