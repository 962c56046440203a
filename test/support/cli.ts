import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { freePort } from "./ports.js";
import { TEST_VAULT_KEY } from "./vault-key.js";

/** The compiled `orchestrator` binary, as a user runs it (`npm run build` makes dist/). */
export const BIN = join(import.meta.dirname, "../../bin/orchestrator.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json: {
    ok: boolean;
    data?: unknown;
    error?: { code: string; message: string; details: { path: string; message: string }[] };
  };
}

/** Runs one CLI command to completion and parses its JSON output. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env,
    stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (stdin !== undefined) child.stdin?.end(stdin);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  let json: CliResult["json"];
  try {
    json = JSON.parse(stdout);
  } catch {
    json = { ok: false };
  }
  return { code, stdout, stderr, json };
}

/** A long-running `orchestrator up`/`serve` process with its output collected. */
export interface RunningCli {
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the CLI; `nodeArgs` go to node itself, before the script (`--cpu-prof` is refused in NODE_OPTIONS). */
export function startCli(args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): RunningCli {
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * How long an orchestrator process may take to answer `/health` after it starts. A bound on
 * liveness, not a measure of speed: a fresh clone's first starts read every module from a cold disk
 * while the other test worker keeps both CPUs busy.
 */
export const START_DEADLINE_MS = 60_000;

/** Polls `url` until it answers 200 or the deadline passes; returns the milliseconds it took. */
export async function waitForHealth(url: string, deadlineMs: number, proc?: RunningCli): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < deadlineMs) {
    if (proc && proc.child.exitCode !== null) throw new Error(`process exited early:\n${proc.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return Date.now() - started;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `no healthy answer from ${url} within ${deadlineMs} ms${proc ? `:\n${proc.output()}` : ""}`,
  );
}

/**
 * What every `serve` process of one distributed deployment shares: the database, the bus, the vault
 * key, this host, and the API address agents and clone URLs use; `extra` adds or overrides.
 */
export function distributedEnv(
  services: { databaseUrl: string; redisUrl: string; apiUrl: string; dataDir?: string },
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    ORCHESTRATOR_SECRET_KEY: TEST_VAULT_KEY,
    ORCHESTRATOR_HOST: "127.0.0.1",
    WORKER_API_URL: services.apiUrl,
    ...(services.dataDir === undefined ? {} : { ORCHESTRATOR_DATA_DIR: services.dataDir }),
    ...extra,
  };
}

/** A `serve` process and where it answers. */
export interface ServedRoles {
  url: string;
  port: number;
  proc: RunningCli;
}

/** `orchestrator serve --roles <roles>` on `port` (a free one by default), once `/health` answers. */
export async function serveRoles(roles: string, env: NodeJS.ProcessEnv, port?: number): Promise<ServedRoles> {
  const listen = port ?? (await freePort());
  const proc = startCli(["serve", "--roles", roles], { ...env, ORCHESTRATOR_PORT: String(listen) });
  const url = `http://127.0.0.1:${listen}`;
  try {
    await waitForHealth(`${url}/health`, START_DEADLINE_MS, proc);
  } catch (error) {
    await proc.stop("SIGKILL");
    throw error;
  }
  return { url, port: listen, proc };
}
