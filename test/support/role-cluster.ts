/**
 * The distributed mode as an operator runs it, for the reliability suites: one throwaway PostgreSQL,
 * one Redis and `orchestrator serve --roles <role>` processes from the built `dist`, with helpers to
 * SIGKILL a process and start its replacement (same port, same data directory) and to restart
 * PostgreSQL or Redis under them. The `api` processes sit behind a small TCP front that, like a load
 * balancer, sends each connection to a live one, so sandboxes and the engines keep one API URL
 * while single `api` processes die.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ScriptedPlaybook } from "../../src/demo/index.js";
import { type RunningCli, START_DEADLINE_MS, startCli, waitForHealth } from "./cli.js";
import { freePort } from "./ports.js";
import { startPostgres, type TestPostgres } from "./postgres.js";
import { terminate } from "./processes.js";
import { startRedis, type TestRedis } from "./redis.js";
import { startFront } from "./tcp-front.js";
import { TEST_VAULT_KEY } from "./vault-key.js";

export const ROLES = ["api", "engine", "workers", "chat", "scheduler"] as const;
export type Role = (typeof ROLES)[number];

/** One role process; `proc` is the current incarnation (replaced after a kill). */
export interface RoleProcess {
  readonly name: string;
  readonly role: Role;
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  proc: RunningCli;
  /** Every pid this slot had, the killed incarnations' included. */
  readonly pids: number[];
  /** Every incarnation, the killed ones included (their output tells what they did). */
  readonly incarnations: RunningCli[];
}

export interface RoleClusterOptions {
  /** How many processes of each role (at least one `api`). */
  replicas: Record<Role, number>;
  /** What the scripted agent plays (Architect and Developer are set to the scripted backend). */
  playbook: ScriptedPlaybook;
  /** Settings added to every process's environment (short leases, port ranges, ...). */
  env?: NodeJS.ProcessEnv;
}

export interface RoleCluster {
  readonly pg: TestPostgres;
  readonly redis: TestRedis;
  /** Where every data directory of the cluster lives (scanned for orphans at the end). */
  readonly root: string;
  /** The API's URL through the front (any live `api` process answers). */
  readonly apiUrl: string;
  /** An admin token, from the first `api` process's start. */
  readonly token: string;
  readonly processes: readonly RoleProcess[];
  /** Calls the API as the admin; tool calls answer their `data`. Throws on a non-2xx answer. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** SIGKILLs the process and waits until it is gone. */
  kill(p: RoleProcess): Promise<void>;
  /** Starts the slot's process again (same port, data directory and settings) and waits for /health. */
  replace(p: RoleProcess): Promise<void>;
  /** Stops every role process (SIGTERM, then SIGKILL after a deadline); the services stay up. */
  stopRoles(): Promise<void>;
  /** Stops the role processes, then PostgreSQL and Redis. */
  stop(): Promise<void>;
  /**
   * Writes every incarnation's output to one file outside the cluster's directory (kept after
   * `dispose`, for a failing run) and returns its path.
   */
  saveLogs(label: string): Promise<string>;
  /** Removes the data directories (after `stop`, once the suite has looked at what is left). */
  dispose(): Promise<void>;
}

const STOP_GRACE_MS = 20_000;
/** The start deadline of a process starting while others start or work on the same cores. */
const SHARED_START_DEADLINE_MS = 2 * START_DEADLINE_MS;
const ADMIN_TOKEN = /orc_[A-Za-z0-9_-]{43}/;

/** Starts PostgreSQL, Redis, the API front and every role process; migrates once before. */
export async function startRoleCluster(opts: RoleClusterOptions): Promise<RoleCluster> {
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  const root = await mkdtemp(join(tmpdir(), "role-cluster-"));
  const shared = join(root, "shared");
  await mkdir(shared, { recursive: true });
  const playbookFile = join(root, "playbook.json");
  await writeFile(playbookFile, JSON.stringify(opts.playbook));
  const processes: RoleProcess[] = [];
  const frontPort = await freePort();
  const apiUrl = `http://127.0.0.1:${frontPort}`;
  const front = await startFront(frontPort, () =>
    processes.filter((p) => p.role === "api" && p.proc.child.exitCode === null).map((p) => p.port),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    ORCHESTRATOR_SECRET_KEY: TEST_VAULT_KEY,
    ORCHESTRATOR_HOST: "127.0.0.1",
    WORKER_API_URL: apiUrl,
    SCRIPTED_PLAYBOOK: playbookFile,
    LOG_LEVEL: "info",
    ...opts.env,
  };

  // Once the suite stops the cluster, a replacement still in flight must not start anything.
  let isStopping = false;
  const launch = (p: RoleProcess) => {
    if (isStopping) throw new Error(`the cluster is stopping: ${p.name} is not started again`);
    p.proc = startCli(["serve", "--roles", p.role], {
      ...env,
      ORCHESTRATOR_DATA_DIR: p.dataDir,
      ORCHESTRATOR_PORT: String(p.port),
    });
    if (p.proc.child.pid !== undefined) p.pids.push(p.proc.child.pid);
    p.incarnations.push(p.proc);
  };
  const healthy = (p: RoleProcess, deadlineMs = START_DEADLINE_MS) =>
    waitForHealth(`${p.url}/health`, deadlineMs, p.proc);

  const stopRoles = async () => {
    isStopping = true;
    // Engines first, one at a time (they hold runs and releases: a stopping engine's releases
    // are adopted by a live one, which must not be stopping too), then the rest together.
    for (const p of processes.filter((q) => q.role === "engine"))
      if (p.proc) await terminate(p.proc.child, STOP_GRACE_MS);
    await Promise.all(
      processes
        .filter((q) => q.role !== "engine" && q.proc)
        .map((q) => terminate(q.proc.child, STOP_GRACE_MS)),
    );
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopRoles();
    const dropped = await front.close();
    if (dropped.length > 0)
      console.log(`the API front dropped connections still open: ${dropped.join("; ")}`);
    await Promise.all([pg.stop(), redis.stop()]);
  };

  try {
    // The slots: api and engine share a data directory (repositories, releases); each workers node
    // has its own (its node id and sandboxes); chat and scheduler one each.
    for (const role of ROLES) {
      for (let i = 1; i <= opts.replicas[role]; i++) {
        const port = await freePort();
        const dataDir = role === "api" || role === "engine" ? shared : join(root, `${role}-${i}`);
        processes.push({
          name: `${role}-${i}`,
          role,
          port,
          url: `http://127.0.0.1:${port}`,
          dataDir,
          proc: undefined as unknown as RunningCli,
          pids: [],
          incarnations: [],
        });
      }
    }
    // The first api migrates and prints the admin token; the others start together after it.
    const [first, ...rest] = processes;
    if (first?.role !== "api") throw new Error("a role cluster needs an api process");
    launch(first);
    await healthy(first);
    const token = ADMIN_TOKEN.exec(first.proc.output())?.[0];
    if (!token) throw new Error(`the api printed no admin token:\n${first.proc.output()}`);
    for (const p of rest) launch(p);
    // They start together, on the same cores: each has the longer deadline of a replacement.
    await Promise.all(rest.map((p) => healthy(p, SHARED_START_DEADLINE_MS)));

    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const json = (await res.json()) as T & { data?: T };
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return path.startsWith("/api/tools/") ? (json.data as T) : json;
    };
    for (const node of ["architect", "developer"]) {
      await call("PATCH", `/api/agent-configs/${node}`, { backend: "scripted" });
    }

    return {
      pg,
      redis,
      root,
      apiUrl,
      token,
      processes,
      call,
      async kill(p) {
        await p.proc.stop("SIGKILL");
      },
      async replace(p) {
        if (p.proc.child.exitCode === null && p.proc.child.signalCode === null) {
          throw new Error(`${p.name} is still running (pid ${p.proc.child.pid})`);
        }
        launch(p);
        // A replacement starts while the others work on the same cores (the first start had them
        // to itself): it has longer, and only a process that never answers counts as not back.
        await healthy(p, SHARED_START_DEADLINE_MS);
      },
      stopRoles,
      stop,
      async saveLogs(label) {
        const file = join(tmpdir(), `${label}-${Date.now()}.log`);
        const text = processes
          .flatMap((p) =>
            p.incarnations.map(
              (inc, i) => `===== ${p.name} #${i + 1} (pid ${inc.child.pid})\n${inc.output()}`,
            ),
          )
          .join("\n");
        await writeFile(file, text);
        return file;
      },
      async dispose() {
        await stop();
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}
