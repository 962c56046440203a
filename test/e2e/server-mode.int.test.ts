import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoPlaybook } from "../../src/demo/index.js";
import { apiCaller } from "../support/api-call.js";
import {
  type CliResult,
  distributedEnv,
  type RunningCli,
  runCli,
  START_DEADLINE_MS,
  serveRoles,
  startCli,
  waitForHealth,
} from "../support/cli.js";
import { lightPlaybook } from "../support/light-project.js";
import { freePort, workerPortRange } from "../support/ports.js";
import { startPostgres } from "../support/postgres.js";
import { startRedis } from "../support/redis.js";
import { TEST_VAULT_KEY } from "../support/vault-key.js";

/** The JSON document a refused start prints between its log lines on stdout. */
function closingError(res: CliResult): CliResult["json"]["error"] {
  const start = res.stdout.lastIndexOf('{\n  "ok"');
  const document = res.stdout.slice(start, res.stdout.indexOf("\n}\n", start) + 2);
  return (JSON.parse(document) as CliResult["json"]).error;
}

// `orchestrator serve` on a real PostgreSQL and Redis: the distributed mode's API role.
describe("server mode (orchestrator serve)", () => {
  let pg: Awaited<ReturnType<typeof startPostgres>>;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let env: NodeJS.ProcessEnv;
  let proc: RunningCli | undefined;

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    const port = await freePort();
    env = {
      PATH: process.env.PATH,
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      ORCHESTRATOR_SECRET_KEY: TEST_VAULT_KEY,
      ORCHESTRATOR_PORT: String(port),
      ORCHESTRATOR_HOST: "127.0.0.1",
      ORCHESTRATOR_API_URL: `http://127.0.0.1:${port}`,
      ORCHESTRATOR_DATA_DIR: mkdtempSync(join(tmpdir(), "orch-serve-")),
    };
  });
  afterAll(async () => {
    await proc?.stop("SIGKILL");
    await Promise.all([pg?.stop(), redis?.stop()]);
    if (env?.ORCHESTRATOR_DATA_DIR) rmSync(env.ORCHESTRATOR_DATA_DIR, { recursive: true, force: true });
  });

  it("refuses to start without its URLs, naming each variable", async () => {
    const res = await runCli(["serve", "--roles", "api"], { PATH: process.env.PATH });
    expect(res.code).toBe(1);
    expect(res.json.error?.details.map((d) => d.path).sort()).toEqual(["DATABASE_URL", "REDIS_URL"]);
  });

  it("refuses an unknown role, listing the valid ones", async () => {
    const res = await runCli(["serve", "--roles", "api,nope"], env);
    expect(res.code).toBe(1);
    expect(res.json.error?.details[0]).toEqual({
      path: "roles",
      message: 'unknown role "nope": valid roles are api, workers, engine, chat, scheduler',
    });
  });

  it("migrates, serves, and issues admin tokens from the CLI", {
    timeout: START_DEADLINE_MS + 30_000,
  }, async () => {
    const migrated = await runCli(["migrate"], env);
    expect(migrated.json).toMatchObject({ ok: true, data: { driver: "postgres" } });

    proc = startCli(["serve", "--roles", "api"], env);
    await waitForHealth(`${env.ORCHESTRATOR_API_URL}/health`, START_DEADLINE_MS, proc);
    const shown = /Admin token \(shown once, keep it\): (orc_\S+)/.exec(proc.output())?.[1];
    expect(shown).toBeDefined();
    // Saved like `up` saves it (0600), where the CLI looks with the same ORCHESTRATOR_DATA_DIR.
    const file = join(env.ORCHESTRATOR_DATA_DIR ?? "", "admin.token");
    expect(readFileSync(file, "utf8").trim()).toBe(shown);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(proc.output()).toContain(`Also saved to ${file} (mode 0600)`);
    expect((await runCli(["project", "list"], env)).code).toBe(0);

    // A second admin token straight from the database, as an operator would recover access.
    const issued = await runCli(["admin", "token", "create", "--name", "ops"], env);
    expect(issued.code).toBe(0);
    const token = (issued.json.data as { token: string }).token;
    const withToken = { ...env, ORCHESTRATOR_TOKEN: token };

    const created = await runCli(["project", "create", "--name", "distributed demo"], withToken);
    expect(created.code, created.stdout).toBe(0);
    const id = (created.json.data as { id: string }).id;
    const got = await runCli(["project", "get", "--id", id], withToken);
    expect((got.json.data as { slug: string }).slug).toBe("distributed-demo");

    const tokenId = (issued.json.data as { record: { id: string } }).record.id;
    expect((await runCli(["admin", "token", "revoke", "--id", tokenId], env)).code).toBe(0);
    const refused = await runCli(["project", "list"], withToken);
    expect(refused.json.error?.code).toBe("unauthorized");
  });

  it("refuses a missing or different vault key, and rotates the key read from stdin", {
    timeout: START_DEADLINE_MS + 90_000,
  }, async () => {
    // The secret to guard is stored through the running API (the CLI's own commands are the
    // previous test's): every process spawned here is one that refuses, rotates or serves.
    const adminToken = readFileSync(join(env.ORCHESTRATOR_DATA_DIR ?? "", "admin.token"), "utf8").trim();
    const tool = async <T>(name: string, input: unknown): Promise<T> => {
      const res = await fetch(`${env.ORCHESTRATOR_API_URL}/api/tools/${name}`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        body: JSON.stringify(input),
      });
      const body = await res.text();
      expect(res.status, body).toBe(200);
      return (JSON.parse(body) as { data: T }).data;
    };
    const projectId = (await tool<{ id: string }>("project.create", { name: "vault holder" })).id;
    await tool("secret.set", { projectId, key: "API_KEY", value: "k-93c1f0" });
    const elsewhere: NodeJS.ProcessEnv = { ...env, ORCHESTRATOR_PORT: String(await freePort()) };

    const keyless: NodeJS.ProcessEnv = { ...elsewhere };
    delete keyless.ORCHESTRATOR_SECRET_KEY;
    const other = randomBytes(32).toString("base64");
    // Two starts that refuse, independent of each other: side by side.
    const [missing, wrong] = await Promise.all([
      runCli(["serve", "--roles", "api"], keyless),
      runCli(["serve", "--roles", "api"], { ...elsewhere, ORCHESTRATOR_SECRET_KEY: other }),
    ]);
    expect(missing.code).toBe(1);
    expect(closingError(missing)).toMatchObject({
      code: "vault_key_missing",
      message: expect.stringContaining("ORCHESTRATOR_SECRET_KEY is required in server mode"),
    });
    expect(wrong.code).toBe(1);
    expect(closingError(wrong)?.code).toBe("vault_key_mismatch");
    expect(closingError(wrong)?.message).toMatch(
      /ORCHESTRATOR_SECRET_KEY .*differs from the key the stored secrets/,
    );
    expect(wrong.stdout + wrong.stderr).not.toContain(other);

    // Rotation runs with the processes stopped; the new key comes on stdin, never in argv.
    const newKey = randomBytes(32).toString("base64");
    const early = await runCli(["secret", "rotate-key"], env, `${newKey}\n`);
    expect(early.json.error?.code).toBe("vault_processes_running");
    await proc?.stop("SIGTERM");
    const noKey = await runCli(["secret", "rotate-key"], env);
    expect(noKey.json.error?.message).toBe("no new key on stdin");
    const rotated = await runCli(["secret", "rotate-key"], env, `${newKey}\n`);
    expect(rotated.code, rotated.stdout).toBe(0);
    expect(rotated.json.data).toMatchObject({
      tables: { secrets: { resealed: 1, alreadyNew: 0, unreadable: 0 } },
      next: expect.stringContaining("set ORCHESTRATOR_SECRET_KEY to the new key"),
    });
    expect(rotated.stdout).not.toContain(newKey);

    const old = await runCli(["serve", "--roles", "api"], elsewhere);
    expect(closingError(old)?.code).toBe("vault_key_mismatch");
    proc = startCli(["serve", "--roles", "api"], { ...env, ORCHESTRATOR_SECRET_KEY: newKey });
    await waitForHealth(`${env.ORCHESTRATOR_API_URL}/health`, START_DEADLINE_MS, proc);
    const listed = await tool<{ key: string; isFilled: boolean }[]>("secret.list", { projectId });
    expect(listed[0]).toMatchObject({
      key: "API_KEY",
      isFilled: true,
    });
  });
});

// The distributed mode: the API in one process, the workers role in another, calls over Redis.
describe("distributed workers (serve --roles api + serve --roles workers)", () => {
  let pg: Awaited<ReturnType<typeof startPostgres>>;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const procs: RunningCli[] = [];
  let dataDir: string;

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    dataDir = mkdtempSync(join(tmpdir(), "orch-dist-"));
  });
  afterAll(async () => {
    for (const p of procs) await p.stop("SIGKILL");
    await Promise.all([pg?.stop(), redis?.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs a scripted worker turn created through the API process", { timeout: 120_000 }, async () => {
    const apiPort = await freePort();
    const base = {
      PATH: process.env.PATH,
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      ORCHESTRATOR_SECRET_KEY: TEST_VAULT_KEY,
      ORCHESTRATOR_HOST: "127.0.0.1",
      ORCHESTRATOR_DATA_DIR: dataDir,
    };
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    // Without its URL a workers process would not know where the API is: it says so and stops.
    const refused = await runCli(["serve", "--roles", "workers"], base);
    expect(refused.code).toBe(1);
    expect(refused.json.error?.details.map((d) => d.path)).toEqual(["WORKER_API_URL"]);
    // The workers process starts first, on the empty database: the first admin token is still not
    // its to issue (it would save it where the CLI never looks), but the API's.
    const workersUrl = `http://127.0.0.1:${await freePort()}`;
    const workersProc = startCli(["serve", "--roles", "workers"], {
      ...base,
      WORKER_API_URL: apiUrl,
      ORCHESTRATOR_PORT: new URL(workersUrl).port,
    });
    procs.push(workersProc);
    // A process without the API still answers /health (its roles, its node) and /metrics.
    await waitForHealth(`${workersUrl}/health`, START_DEADLINE_MS, workersProc);
    expect(workersProc.output()).not.toContain("Admin token");
    const apiProc = startCli(["serve", "--roles", "api"], { ...base, ORCHESTRATOR_PORT: String(apiPort) });
    procs.push(apiProc);
    await waitForHealth(`${apiUrl}/health`, START_DEADLINE_MS, apiProc);
    expect(apiProc.output()).toContain("Admin token (shown once, keep it)");
    const token = /orc_[A-Za-z0-9_-]{43}/.exec(apiProc.output())?.[0] ?? "";
    const health = (await (await fetch(`${workersUrl}/health`)).json()) as Record<string, unknown>;
    const node = readFileSync(join(dataDir, "node-id"), "utf8").trim();
    expect(health).toMatchObject({ status: "ok", roles: ["workers"], instance: node });
    expect((await fetch(`${workersUrl}/metrics`)).status).toBe(401);
    const metrics = await fetch(`${workersUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(await metrics.text()).toMatch(/process_cpu_user_seconds_total\{role="workers"\} /);
    expect(
      (await fetch(`${workersUrl}/api/projects`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(404);

    const call = apiCaller(apiUrl, token).answer;
    const project = await call("POST", "/api/projects", { name: "distributed worker" });
    expect(project.status).toBe(201);
    // The workers process may still be starting: the bus request waits for it.
    const created = await call("POST", "/api/workers", {
      role: "developer",
      projectId: project.json.id,
      backend: "scripted",
      runtime: "process",
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const workerId = created.json.id as string;
    const steps = [
      { run: { argv: ["git", "init", "-q"] } },
      { write: { path: "README.md", content: "# hi\n" } },
      { report: { status: "complete", summary: "wrote the readme" } },
    ];
    const turn = await call("POST", `/api/workers/${workerId}/messages`, {
      message: JSON.stringify({ steps }),
      options: { timeoutMs: 60_000 },
    });
    expect(turn.status, JSON.stringify(turn.json)).toBe(200);
    expect(turn.json).toMatchObject({
      ok: true,
      stopReason: "completed",
      report: { status: "complete", summary: "wrote the readme" },
    });
    expect(readFileSync(join(dataDir, "workers", workerId, "workspace", "README.md"), "utf8")).toBe("# hi\n");

    const status = await call("GET", `/api/workers/${workerId}`);
    expect(status.json).toMatchObject({ state: "paused", hasSandbox: true });
    const bad = await call("POST", "/api/workers", {
      role: "developer",
      projectId: project.json.id,
      backend: "nope",
    });
    expect(bad.status).toBe(400);
    expect((bad.json.error as { details: { path: string }[] }).details[0]?.path).toBe("body.backend");
    // Errors cross the bus with their kind: an unknown worker is a 404 from the other process.
    const unknown = await call("GET", "/api/workers/5b0c2d4e-1111-4222-8333-444455556666");
    expect(unknown.status).toBe(404);
    expect((unknown.json.error as { code: string }).code).toBe("not_found");
    const ended = await call("DELETE", `/api/workers/${workerId}`);
    expect(ended.json).toMatchObject({ state: "stopped" });
  });

  it("runs an engineering run across api, workers and engine processes", { timeout: 240_000 }, async () => {
    // One workers process per data directory (its sandboxes live there): the previous test's go.
    for (const p of procs.splice(0)) await p.stop("SIGTERM");
    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    // One data directory: the API serves the repositories the engine creates.
    const base = distributedEnv(
      { databaseUrl: pg.url, redisUrl: redis.url, apiUrl, dataDir },
      { DEPLOY_PORT_RANGE: workerPortRange(20_000).join("-") },
    );
    const { proc: apiProc } = await serveRoles("api", base, apiPort);
    procs.push(apiProc);
    // The scripted agent plays a playbook file given to the workers role, in the format
    // `scripted-playbook` prints the demo's in: the light project's (cheap to test and build).
    const printed = await runCli(["scripted-playbook"], base);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(JSON.parse(JSON.stringify(demoPlaybook())));
    const playbookFile = join(dataDir, "playbook.json");
    writeFileSync(playbookFile, JSON.stringify(lightPlaybook()));
    // Each process on one machine listens on its own port (/health and /metrics without the API).
    for (const role of ["workers", "engine"]) {
      const port = await freePort();
      const proc = startCli(["serve", "--roles", role], {
        ...base,
        ORCHESTRATOR_PORT: String(port),
        ...(role === "workers" ? { SCRIPTED_PLAYBOOK: playbookFile } : {}),
      });
      procs.push(proc);
      await waitForHealth(`http://127.0.0.1:${port}/health`, START_DEADLINE_MS, proc);
      const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { roles: string[] };
      expect(health.roles).toEqual([role]);
    }
    const admin = await runCli(["admin", "token", "create", "--name", "engineering"], base);
    const token = (admin.json.data as { token: string }).token;
    // Every process keeps a heartbeat: the operator sees all three, alive, and where each answers.
    const listed = await runCli(["instance", "list", "--alive"], {
      ...base,
      ORCHESTRATOR_API_URL: apiUrl,
      ORCHESTRATOR_TOKEN: token,
    });
    const instances = (listed.json.data as { items: { roles: string[]; probeUrl: string }[] }).items;
    expect(instances.map((i) => i.roles.join()).sort()).toEqual(["api", "engine", "workers"]);
    for (const instance of instances) expect((await fetch(`${instance.probeUrl}/health`)).status).toBe(200);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    // The agents of this deployment are the scripted one (it plays the playbook file).
    for (const node of ["architect", "developer"]) {
      const set = await call("PATCH", `/api/agent-configs/${node}`, { backend: "scripted" });
      expect(set.status, JSON.stringify(set.json)).toBe(200);
    }
    const project = await call("POST", "/api/projects", { name: "distributed engineering" });
    const started = await call("POST", "/api/tools/engineering.start", {
      projectId: project.json.id,
      brief: "A web service that tells the time.",
    });
    expect(started.status, JSON.stringify(started.json)).toBe(200);
    const runId = (started.json.data as { id: string }).id;
    let run: Record<string, unknown> = {};
    const until = Date.now() + 200_000;
    while (!["succeeded", "failed", "blocked"].includes(String(run.status))) {
      if (Date.now() > until) throw new Error(`run still ${String(run.status)} at ${String(run.stage)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      run = (await call("GET", `/api/runs/${runId}`)).json;
    }
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    const status = await call("POST", "/api/tools/engineering.status", { runId });
    const tests = (status.json.data as { tests: { passed: boolean }[] }).tests;
    expect(tests.map((t) => t.passed)).toEqual([true]);

    // The green commit deploys itself (engine process, local driver) and answers.
    let deploy: Record<string, unknown> = {};
    const deployUntil = Date.now() + 200_000;
    while (!["succeeded", "failed", "blocked"].includes(String(deploy.status))) {
      if (Date.now() > deployUntil) throw new Error(`deploy still ${String(deploy.status)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      const listed = await call("POST", "/api/tools/deploy.status", { projectId: project.json.id });
      deploy = ((listed.json.data as { run: Record<string, unknown> | null } | undefined)?.run ??
        {}) as Record<string, unknown>;
    }
    expect(deploy.status, JSON.stringify(deploy.error)).toBe("succeeded");
    const url = (deploy.result as { url: string }).url;
    expect((await fetch(`${url}/api/time`)).status).toBe(200);
    // SIGTERM, not SIGKILL: the engine stops the services it runs (a killed one would leave them).
    for (const p of procs.splice(0)) expect(await p.stop("SIGTERM")).toBe(0);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});
