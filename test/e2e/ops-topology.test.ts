import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProcessRole } from "../../src/contracts/index.js";
import { apiCaller } from "../support/api-call.js";
import { type RunningCli, runCli, START_DEADLINE_MS, startCli, waitForHealth } from "../support/cli.js";
import { composeConfig, type RoleService, roleServices, volumeMount } from "../support/compose.js";
import { lightPlaybook } from "../support/light-project.js";
import { freePort, workerPortRange } from "../support/ports.js";
import { startPostgres } from "../support/postgres.js";
import { startRedis } from "../support/redis.js";

/*
 * The compose deployment's topology with its roles as processes: images cannot be pulled here, so
 * each role service of ops/docker-compose.yml runs as `serve --roles <role>` with the environment
 * the compose file gives it, read from `docker-compose config` (the two cannot drift). Only what
 * names a place changes: the postgres and redis services become this test's own, each named volume
 * or host folder a temporary directory, and every port a free one. Three settings change with a
 * reason: the workers run sandboxes as processes (the docker runtime on a host engine is
 * engineering-docker.test.ts's) with the light project as the scripted agent's playbook (cheap to
 * build and test), and the engine deploys with the local driver (ssh-compose needs a server with
 * Docker: deploy-ssh-compose.test.ts). Roles `serve` does not know yet are left out
 * and named by the first test.
 */

interface RoleProcess extends RoleService {
  url: string;
  dataDir: string;
  proc: RunningCli;
}

describe("the compose file's role services as processes", () => {
  let pg: Awaited<ReturnType<typeof startPostgres>>;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const dirs = new Map<string, string>();
  const started: RoleProcess[] = [];
  let services: RoleService[];
  let token = "";

  /** A temporary directory standing for a named volume or a host folder, one per source. */
  const dirFor = (source: string) => {
    const existing = dirs.get(source);
    if (existing) return existing;
    const dir = mkdtempSync(join(tmpdir(), "ops-topology-"));
    dirs.set(source, dir);
    return dir;
  };

  /** The scripted agent's playbook for the workers: the light project (test/support/light-project.ts). */
  const playbookFile = () => {
    const file = join(dirFor("playbook"), "playbook.json");
    writeFileSync(file, JSON.stringify(lightPlaybook()));
    return file;
  };

  /** The service's environment with this machine's places in it. */
  const environmentOf = async (
    { name, service }: RoleService,
    apiUrl: string,
  ): Promise<{ env: NodeJS.ProcessEnv; url: string }> => {
    const env: NodeJS.ProcessEnv = { ...service.environment };
    expect(new URL(env.DATABASE_URL ?? "").hostname, name).toBe("postgres");
    expect(new URL(env.REDIS_URL ?? "").hostname, name).toBe("redis");
    const port = name === "api" ? new URL(apiUrl).port : String(await freePort());
    // The data directory: the folder of the volume mounted there (or above it) in the container.
    const dataDir = env.ORCHESTRATOR_DATA_DIR ?? "";
    const mount = (service.volumes ?? [])
      .map(volumeMount)
      .find((m) => dataDir === m.target || dataDir.startsWith(`${m.target}/`));
    expect(mount, `${name}: a volume holds ${dataDir}`).toBeDefined();
    return {
      url: `http://127.0.0.1:${port}`,
      env: {
        ...env,
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: pg.url,
        REDIS_URL: redis.url,
        ORCHESTRATOR_HOST: "127.0.0.1",
        ORCHESTRATOR_PORT: port,
        ORCHESTRATOR_DATA_DIR: join(dirFor(mount?.source ?? ""), dataDir.slice(mount?.target.length ?? 0)),
        ...(env.WORKER_API_URL ? { WORKER_API_URL: apiUrl } : {}),
        ...(env.WORKER_RUNTIME ? { WORKER_RUNTIME: "process", SCRIPTED_PLAYBOOK: playbookFile() } : {}),
        ...(env.DEPLOY_DRIVER
          ? { DEPLOY_DRIVER: "local", DEPLOY_PORT_RANGE: workerPortRange(20_000).join("-") }
          : {}),
        DOCKER_HOST: undefined,
      },
    };
  };

  const start = async (service: RoleService, apiUrl: string): Promise<RoleProcess> => {
    const { env, url } = await environmentOf(service, apiUrl);
    const proc = startCli([...(service.service.command ?? [])], env);
    const running = { ...service, url, dataDir: env.ORCHESTRATOR_DATA_DIR ?? "", proc };
    started.push(running);
    await waitForHealth(`${url}/health`, START_DEADLINE_MS, proc);
    return running;
  };

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    services = roleServices(composeConfig());
  });
  afterAll(async () => {
    for (const { proc } of started) await proc.stop("SIGKILL");
    await Promise.all([pg?.stop(), redis?.stop()]);
    for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true });
  });

  it("starts every role service `serve` knows, each answering /health with its role", {
    timeout: 3 * START_DEADLINE_MS,
  }, async () => {
    const known = new Set<string>(ProcessRole.options);
    const runnable = services.filter((s) => known.has(s.role));
    // Every role `serve` knows has its service; those it does not know yet join once it does.
    expect(runnable.map((s) => s.role).sort()).toEqual([...ProcessRole.options].sort());
    const api = runnable.find((s) => s.role === "api");
    expect(api).toBeDefined();
    const apiUrl = `http://127.0.0.1:${await freePort()}`;
    // The api first: on an empty database it is the one that issues the first admin token.
    const apiProc = await start(api as RoleService, apiUrl);
    token = /orc_[A-Za-z0-9_-]{43}/.exec(apiProc.proc.output())?.[0] ?? "";
    expect(token).not.toBe("");
    await Promise.all(runnable.filter((s) => s !== api).map((s) => start(s, apiUrl)));

    for (const { role, url } of started) {
      const res = await fetch(`${url}/health`);
      expect(res.status, role).toBe(200);
      expect(((await res.json()) as { roles: string[] }).roles).toEqual([role]);
      // What Prometheus scrapes on each service: /metrics with a token, labelled with the role.
      const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(await metrics.text()).toMatch(new RegExp(`process_cpu_user_seconds_total\\{role="${role}"\\} `));
    }
    // The api and the engine share the data volume (the engine reads the repositories the api
    // serves); the workers node has a folder of its own.
    const dataDir = (role: string) => started.find((s) => s.role === role)?.dataDir;
    expect(dataDir("engine")).toBe(dataDir("api"));
    expect(dataDir("workers")).not.toBe(dataDir("api"));
  });

  it("runs a brief with scripted agents to a live deploy", { timeout: 420_000 }, async () => {
    const apiUrl = started.find((s) => s.role === "api")?.url ?? "";
    expect(apiUrl).not.toBe("");
    const call = apiCaller(apiUrl, token).answer;
    // The demo's agents: the scripted one plays the light project's playbook (a service telling the time).
    for (const node of ["architect", "developer"]) {
      const set = await call("PATCH", `/api/agent-configs/${node}`, { backend: "scripted" });
      expect(set.status, JSON.stringify(set.json)).toBe(200);
    }
    const project = await call("POST", "/api/projects", { name: "compose topology" });
    expect(project.status).toBe(201);
    const begun = await call("POST", "/api/tools/engineering.start", {
      projectId: project.json.id,
      brief: "A web service that tells the time.",
    });
    expect(begun.status, JSON.stringify(begun.json)).toBe(200);
    const runId = (begun.json.data as { id: string }).id;
    const settle = async (read: () => Promise<Record<string, unknown>>, what: string) => {
      const until = Date.now() + 200_000;
      let state: Record<string, unknown> = {};
      while (!["succeeded", "failed", "blocked", "cancelled"].includes(String(state.status))) {
        if (Date.now() > until)
          throw new Error(`${what} still ${String(state.status)} at ${String(state.stage)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        state = await read();
      }
      return state;
    };
    const run = await settle(async () => (await call("GET", `/api/runs/${runId}`)).json, "engineering run");
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
    const deploy = await settle(async () => {
      const status = await call("POST", "/api/tools/deploy.status", { projectId: project.json.id });
      return ((status.json.data as { run: Record<string, unknown> | null } | undefined)?.run ?? {}) as Record<
        string,
        unknown
      >;
    }, "deploy");
    expect(deploy.status, JSON.stringify(deploy.error)).toBe("succeeded");
    const url = (deploy.result as { url: string }).url;
    expect((await fetch(`${url}/api/time`)).status).toBe(200);

    // The operator's view: every role service alive, by its heartbeat.
    const listed = await runCli(["instance", "list", "--alive"], {
      PATH: process.env.PATH,
      ORCHESTRATOR_API_URL: apiUrl,
      ORCHESTRATOR_TOKEN: token,
    });
    const instances = (listed.json.data as { items: { roles: string[] }[] }).items;
    expect(instances.map((i) => i.roles.join()).sort()).toEqual(started.map((s) => s.role).sort());

    // A clean stop of each (the engine stops the service it runs).
    for (const p of started.splice(0)) expect(await p.proc.stop("SIGTERM"), p.role).toBe(0);
    await expect(fetch(`${url}/api/time`)).rejects.toThrow();
  });
});
