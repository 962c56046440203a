import { join } from "node:path";
import type { Bus, Subscription } from "../bus/index.js";
import { type Config, packageRoot, sandboxReadOnlyPaths } from "../config/index.js";
import { demoPlaybook, loadPlaybook, playbookScriptFor } from "../demo/index.js";
import { RunJournal } from "../events/index.js";
import { componentLogger, type Logger, type Metrics, type SecretRedactor } from "../observability/index.js";
import type { Scheduler } from "../scheduler/index.js";
import type { Store } from "../store/index.js";
import {
  CACHES_DIR,
  ClaudeCodeBackend,
  CodexBackend,
  DockerRuntime,
  dockerFromEnv,
  FactoryDroidBackend,
  npmCachesGcJob,
  ProcessRuntime,
  type Runtime,
  runWorkspacesGcJob,
  ScriptedBackend,
  serveWorkerRpc,
  WorkerManager,
  WorkerSweeper,
} from "../workers/index.js";

/** The `workers` role of a process: the manager, its sweeper, and (distributed) its bus service. */
export interface WorkersRole {
  manager: WorkerManager;
  /** For `/health`: the runtime's engine answers (the Docker engine with the docker runtime). */
  checks: Record<string, () => Promise<unknown>>;
  stop(): Promise<void>;
}

/**
 * Builds the WorkerManager from the config (runtimes, backends, lifecycle limits), recovers from a
 * previous process's crash, schedules the sweeper and, with a shared bus, answers worker calls from
 * other processes.
 */
export async function startWorkersRole(deps: {
  config: Config;
  store: Store;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  redactor: SecretRedactor;
  env: NodeJS.ProcessEnv;
  /** This node's id: the process's instance id, whose heartbeat tells the engine it is alive. */
  node: string;
  /** The process's scheduler: runs the sweep of this node's sandboxes. */
  scheduler: Scheduler;
}): Promise<WorkersRole> {
  const { config, store } = deps;
  const settings = config.workers;
  const logger = componentLogger(deps.logger, "workers");
  const bindReadOnly = sandboxReadOnlyPaths();
  const processRuntime = new ProcessRuntime({
    root: join(config.dataDir, "workers"),
    bindReadOnly,
    logger,
    // WORKER_SANDBOX=none turns bubblewrap off on purpose; `auto` refuses model agents without it.
    ...(settings.sandbox === "none" ? { useBubblewrap: false } : {}),
  });
  // Decided now, so what is missing (and what will be refused) is logged at start, not mid-run.
  if (settings.runtime === "process") await processRuntime.isolation();
  const runtimes: Partial<Record<"process" | "docker", Runtime>> = { process: processRuntime };
  const checks: WorkersRole["checks"] = {};
  if (settings.runtime === "docker") {
    const docker = await dockerFromEnv(deps.env);
    checks.docker = () => docker.ping();
    runtimes.docker = new DockerRuntime({
      docker,
      image: settings.image,
      workspaceRoot: join(config.dataDir, "docker-workers"),
      bindReadOnly,
      logger,
    });
  }
  // The scripted agent plays the engineering playbook (SCRIPTED_PLAYBOOK, else the demo's).
  const playbook = config.engine.scriptedPlaybook
    ? await loadPlaybook(config.engine.scriptedPlaybook)
    : demoPlaybook();
  const node = deps.node;
  // Model keys stay with the model gateway; droid needs Factory's account key to start at all.
  const factoryKey = config.llm.credentials.FACTORY_API_KEY;
  const agentEnv: Record<string, string> = factoryKey ? { FACTORY_API_KEY: factoryKey } : {};
  const manager = new WorkerManager({
    store,
    journal: new RunJournal({ store, bus: deps.bus, logger }),
    runtimes,
    backends: {
      "claude-code": new ClaudeCodeBackend(),
      codex: new CodexBackend(),
      "factory-droid": new FactoryDroidBackend(),
      scripted: new ScriptedBackend({ scriptFor: playbookScriptFor(playbook) }),
    },
    logger,
    metrics: deps.metrics,
    apiUrl: settings.apiUrl,
    packageRoot: packageRoot(),
    agentEnv,
    modelGateway: true,
    defaultRuntime: settings.runtime,
    session: { maxContextTokens: settings.sessionMaxContextTokens, maxAgeMs: settings.sessionMaxAgeMs },
    hardTtlMs: settings.hardTtlMs,
    node,
    redactor: deps.redactor,
  });
  const sweeper = new WorkerSweeper({
    store,
    manager,
    runtimes,
    logger,
    pausedTtlMs: settings.pausedTtlMs,
    intervalMs: settings.sweepIntervalMs,
    metrics: deps.metrics,
  });
  await sweeper.recoverAfterRestart();
  deps.scheduler.add(sweeper.job());
  // Garbage collection: ended workers' records, finished runs' workspaces, removed projects' caches.
  const gc = { store, logger, metrics: deps.metrics, intervalMs: config.gc.intervalMs };
  deps.scheduler.add(runWorkspacesGcJob({ ...gc, manager, ageMs: config.gc.workspaceAgeMs }));
  const cacheRoots = [join(config.dataDir, "workers", CACHES_DIR)];
  if (settings.runtime === "docker" && settings.dockerHost === null)
    cacheRoots.push(join(config.dataDir, "docker-workers", CACHES_DIR));
  deps.scheduler.add(npmCachesGcJob({ ...gc, cacheRoots }));
  const rpc: Subscription | null =
    config.redisUrl !== null
      ? serveWorkerRpc(deps.bus, manager, logger, `workers-${process.pid}`, node)
      : null;
  return {
    manager,
    checks,
    async stop() {
      await rpc?.stop(5_000);
      await sweeper.stop();
      // On shutdown, as on start: nothing carrying our labels outlives its record.
      await sweeper.sweep();
    },
  };
}
