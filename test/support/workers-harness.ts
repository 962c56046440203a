import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { type Bus, InProcessBus } from "../../src/bus/index.js";
import { packageRoot, sandboxReadOnlyPaths } from "../../src/config/index.js";
import { RunJournal } from "../../src/events/index.js";
import { createLogger, createMetrics, SecretRedactor } from "../../src/observability/index.js";
import type { Store } from "../../src/store/index.js";
import {
  ProcessRuntime,
  type Runtime,
  ScriptedBackend,
  WorkerManager,
  type WorkerManagerDeps,
  WorkerSweeper,
} from "../../src/workers/index.js";
import { type ApiHarness, type ApiHarnessOptions, startApiHarness } from "./api-harness.js";

/** A WorkerManager on the process runtime and the scripted backend, behind a real API on loopback. */
export interface WorkersHarness extends ApiHarness {
  url: string;
  root: string;
  runtime: Runtime;
  manager: WorkerManager;
  sweeper: WorkerSweeper;
  metrics: ReturnType<typeof createMetrics>;
  /** A new manager over the same store and sandbox root, as after an orchestrator restart. */
  restart(): { runtime: Runtime; manager: WorkerManager; sweeper: WorkerSweeper };
}

export function buildManager(opts: {
  store: Store;
  /** Where run events are published (default: a bus of its own, nobody listening). */
  bus?: Bus;
  url: string;
  root: string;
  pausedTtlMs?: number;
  hardTtlMs?: number;
  useBubblewrap?: boolean;
  backends?: WorkerManagerDeps["backends"];
  agentEnv?: Record<string, string>;
  /** Route agents' model calls through the API's model gateway (the API must serve one). */
  modelGateway?: boolean;
  runtimes?: WorkerManagerDeps["runtimes"];
  /** The runtime of workers created without one (default `process`); it must be in `runtimes`. */
  defaultRuntime?: WorkerManagerDeps["defaultRuntime"];
  /**
   * Give every project's sandboxes one npm cache, `SHARED_NPM_CACHE`, instead of one per project
   * (see `shareNpmCache`): for suites whose Tester installs the same template packages again and
   * again, not for those that test the caches themselves.
   */
  shareNpmCache?: boolean;
  logLines?: string[];
}) {
  const lines = opts.logLines;
  const destination = lines
    ? new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      })
    : undefined;
  const logger = createLogger({ level: "info", redactor: new SecretRedactor(), destination });
  const metrics = createMetrics();
  const cacheRoot = join(opts.root, ".caches");
  const runtime = new ProcessRuntime({
    root: opts.root,
    cacheRoot,
    bindReadOnly: sandboxReadOnlyPaths(),
    useBubblewrap: opts.useBubblewrap,
  });
  if (opts.shareNpmCache) shareNpmCache(runtime, cacheRoot);
  const manager = new WorkerManager({
    store: opts.store,
    journal: new RunJournal({ store: opts.store, bus: opts.bus ?? new InProcessBus(), logger }),
    runtimes: opts.runtimes ?? { process: runtime },
    backends: opts.backends ?? { scripted: new ScriptedBackend() },
    logger,
    metrics,
    apiUrl: opts.url,
    packageRoot: packageRoot(),
    agentEnv: opts.agentEnv ?? {},
    modelGateway: opts.modelGateway ?? false,
    defaultRuntime: opts.defaultRuntime ?? "process",
    session: { maxContextTokens: 150_000, maxAgeMs: 24 * 3_600_000 },
    hardTtlMs: opts.hardTtlMs ?? 3_600_000,
  });
  const sweeper = new WorkerSweeper({
    store: opts.store,
    manager,
    runtimes: opts.runtimes ?? { process: runtime },
    logger,
    pausedTtlMs: opts.pausedTtlMs ?? 30 * 60_000,
    intervalMs: 60_000,
  });
  return { runtime, manager, sweeper, metrics };
}

/**
 * One npm cache for every project of every suite that asks (`shareNpmCache`), kept between runs:
 * the template's packages are fetched from the registry once, then read from here. npm's cache is
 * content-addressed and safe to share between processes.
 */
export const SHARED_NPM_CACHE = join(tmpdir(), `orch-test-npm-cache-${process.getuid?.() ?? "user"}`);

/**
 * Before a sandbox is made, its project's npm cache (`<cacheRoot>/<projectId>/npm`, which the
 * runtime binds into the sandbox) becomes a link to `SHARED_NPM_CACHE`. The product keeps one cache
 * per project so projects cannot poison each other; the suites' projects all install the same
 * trusted templates, and a cold cache only costs time.
 */
function shareNpmCache(runtime: ProcessRuntime, cacheRoot: string): void {
  const create = runtime.create.bind(runtime);
  runtime.create = async (spec) => {
    await mkdir(SHARED_NPM_CACHE, { recursive: true });
    const projectDir = join(cacheRoot, spec.projectId);
    await mkdir(projectDir, { recursive: true });
    await symlink(SHARED_NPM_CACHE, join(projectDir, "npm")).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
    return create(spec);
  };
}

export async function startWorkersHarness(
  options: Omit<Parameters<typeof buildManager>[0], "store" | "url" | "root" | "modelGateway"> & {
    /** Serve the model gateway and send every agent's model calls through it. */
    gateway?: ApiHarnessOptions["gateway"];
  } = {},
): Promise<WorkersHarness> {
  const { gateway, ...rest } = options;
  const opts = { ...rest, modelGateway: gateway !== undefined };
  const api = await startApiHarness({ listen: true, ...(gateway ? { gateway } : {}) });
  const root = mkdtempSync(join(tmpdir(), "orch-workers-"));
  const url = api.url as string;
  const built = buildManager({ store: api.store, bus: api.bus, url, root, logLines: api.logLines, ...opts });
  return {
    ...api,
    url,
    root,
    ...built,
    restart: () =>
      buildManager({ store: api.store, bus: api.bus, url, root, logLines: api.logLines, ...opts }),
    async close() {
      // Through the runtime, so processes and cgroups go too, not only the folders.
      for (const info of await built.runtime.list()) await built.runtime.remove(info);
      await api.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Starts `workers-child.ts`, an orchestrator process that creates workers whose turns sleep, and
 * resolves with their ids once they run; `kill()` ends it with SIGKILL, as a crash would.
 */
export async function startDoomedOrchestrator(
  env: Record<string, string>,
): Promise<{ ids: string[]; kill(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "workers-child.ts")], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ids = await new Promise<string[]>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.includes('"ready"'));
      if (line) resolve((JSON.parse(line) as { ids: string[] }).ids);
    });
    child.on("exit", (code) => reject(new Error(`child exited early with ${code}`)));
  });
  return {
    ids,
    async kill() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    },
  };
}
