import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { developerToolReference } from "../../src/app/index.js";
import { sandboxReadOnlyPaths } from "../../src/config/index.js";
import type { AgentBackend, Run } from "../../src/contracts/index.js";
import { playbookScriptFor, type ScriptedPlaybook } from "../../src/demo/index.js";
import { type DeployDriver, LocalDriver } from "../../src/deploy/index.js";
import {
  type BotProbe,
  type DevopsDeps,
  DevopsRunner,
  deployAfterGreenSubscriber,
  EngineeringRunner,
  RunExecutor,
  StoreCheckpointSaver,
} from "../../src/engine/index.js";
import { type RunEventSubscriber, RunJournal } from "../../src/events/index.js";
import type { LocalForge } from "../../src/git/index.js";
import { createLogger, type Logger, SecretRedactor } from "../../src/observability/index.js";
import { Scheduler } from "../../src/scheduler/index.js";
import type { Runtime, WorkerManagerDeps } from "../../src/workers/index.js";
import { DockerRuntime, dockerFromEnv, ScriptedBackend } from "../../src/workers/index.js";
import { type ApiHarness, type ApiHarnessOptions, startApiHarness } from "./api-harness.js";
import { workerPortRange } from "./ports.js";
import { buildManager } from "./workers-harness.js";

/** How long a run may take in these tests: every Tester round installs the template's packages. */
export const RUN_DEADLINE_MS = 240_000;

/**
 * The engineering pipeline in one process, as `up` builds it: a real API on loopback serving the
 * local forge over git HTTP, a WorkerManager on the process runtime (or the docker runtime, when a
 * test gives an engine) with the scripted agent (playing the playbook a test sets), and the engine
 * executing runs from the bus.
 */
export interface EngineHarness extends ApiHarness {
  url: string;
  forge: LocalForge;
  manager: ReturnType<typeof buildManager>["manager"];
  executor: RunExecutor;
  /** What the scripted agent plays from now on. */
  setPlaybook(playbook: ScriptedPlaybook): void;
  /** Calls `engineering.start` over HTTP with the admin token; returns the queued run. */
  start(input: { projectId: string; brief?: string; changeRequest?: string }): Promise<Run>;
  /** Waits until the run is terminal and returns it. */
  waitForEnd(runId: string, deadlineMs?: number): Promise<Run>;
  /** The deploy side: the driver (local unless a test gives one), secrets, the deploy executor. */
  driver: DeployDriver;
  devopsDeps: DevopsDeps;
  deployRoot: string;
  /** Calls a tool over HTTP with the admin token; returns `data` or throws with the error body. */
  tool<T>(name: string, input: unknown): Promise<T>;
  /** A new deploy-after-green subscriber as a (re)started engine role builds it; stopped on close. */
  afterGreen(): RunEventSubscriber;
}

export interface EngineHarnessOptions {
  maxIterations?: number;
  /** Backends besides the scripted one (e.g. `claude-code` against the fake Anthropic API). */
  backends?: WorkerManagerDeps["backends"];
  /** The backend every agent stage uses (default `scripted`). */
  agentBackend?: AgentBackend;
  /** Environment every agent CLI gets (model endpoint, credentials). */
  agentEnv?: Record<string, string>;
  /** Bot API root for deployed bots and their health gate (a fake Telegram). */
  telegramApiRoot?: string;
  botProbe?: BotProbe;
  /** Queue a deploy when an engineering run succeeds, as the engine role does (its subscriber). */
  deployOnGreen?: boolean;
  /**
   * With `deployOnGreen`: do not start the deploy-after-green subscriber; the test starts one with
   * `afterGreen()` when it wants, as an engine role started later would.
   */
  holdDeployAfterGreen?: boolean;
  /** The deploy driver (default: the local driver under the harness's own folder). */
  driver?: (opts: { store: ApiHarness["store"]; vault: ApiHarness["vault"]; logger: Logger }) => DeployDriver;
  /** Serve the `server.*` tools (see `ApiHarnessOptions.servers`). */
  servers?: ApiHarnessOptions["servers"];
  /** Serve the model gateway and send every agent's model calls through it (as `up` does). */
  gateway?: ApiHarnessOptions["gateway"];
  /**
   * Run every worker (agents and the Tester) as a container of this engine, from this image, as
   * `WORKER_RUNTIME=docker` does; default the process runtime.
   */
  docker?: { host: string; image: string };
}

export async function startEngineHarness(opts: EngineHarnessOptions = {}): Promise<EngineHarness> {
  const api = await startApiHarness({
    listen: true,
    localForge: true,
    ...(opts.servers ? { servers: opts.servers } : {}),
    ...(opts.gateway ? { gateway: opts.gateway } : {}),
  });
  const url = api.url as string;
  const forge = api.forge as LocalForge;
  const root = await mkdtemp(join(tmpdir(), "orch-engine-"));
  let playbook: ScriptedPlaybook | null = null;
  const scripted = new ScriptedBackend({
    scriptFor: (turn) => {
      if (!playbook) throw new Error("set a playbook first");
      return playbookScriptFor(playbook)(turn);
    },
  });
  // As the workers role builds it for WORKER_RUNTIME=docker; every stage's worker takes the default.
  const docker = opts.docker
    ? new DockerRuntime({
        docker: await dockerFromEnv({ DOCKER_HOST: opts.docker.host }),
        image: opts.docker.image,
        workspaceRoot: join(root, "docker-workers"),
        bindReadOnly: sandboxReadOnlyPaths(),
      })
    : null;
  const built = buildManager({
    store: api.store,
    bus: api.bus,
    url,
    root: join(root, "workers"),
    backends: { scripted, ...opts.backends },
    agentEnv: opts.agentEnv,
    modelGateway: opts.gateway !== undefined,
    logLines: api.logLines,
    // Every Tester round installs the template's packages: from one warm cache, not the registry.
    shareNpmCache: true,
    ...(docker ? { runtimes: { docker }, defaultRuntime: "docker" as const } : {}),
  });
  const manager = built.manager;
  const runtime: Runtime = docker ?? built.runtime;
  // The engine's lines join the API's, so tests can scan everything the orchestrator logged.
  const logger = createLogger({
    level: "info",
    redactor: new SecretRedactor(),
    destination: { write: (line: string) => api.logLines.push(line) },
  });
  const secrets = api.secrets;
  const deployRoot = join(root, "deploy");
  const driver =
    opts.driver?.({ store: api.store, vault: api.vault, logger }) ??
    new LocalDriver({ root: deployRoot, logger });
  const journal = new RunJournal({ store: api.store, bus: api.bus, logger });
  const devopsDeps: DevopsDeps = {
    store: api.store,
    forge,
    driver,
    secrets,
    journal,
    logger,
    portRange: workerPortRange(30_000),
    appEnv: "test",
    telegramApiRoot: opts.telegramApiRoot ?? null,
    gate: { intervalMs: 500, deadlineMs: 30_000 },
    ...(opts.botProbe ? { botProbe: opts.botProbe } : {}),
  };
  const subscribers: RunEventSubscriber[] = [];
  const newAfterGreen = () => {
    const subscriber = deployAfterGreenSubscriber({ store: api.store, bus: api.bus, journal, logger });
    subscribers.push(subscriber);
    return subscriber;
  };
  const devops = new DevopsRunner(devopsDeps, new StoreCheckpointSaver(api.store.checkpoints));
  const runner = new EngineeringRunner(
    {
      store: api.store,
      workers: manager,
      forge,
      journal,
      logger,
      workDir: join(root, "engine"),
      maxIterations: opts.maxIterations ?? 3,
      installTimeoutMs: 180_000,
      testTimeoutMs: 120_000,
      toolReference: developerToolReference(),
      agentBackend: opts.agentBackend ?? "scripted",
      deploysOnGreen: opts.deployOnGreen === true,
    },
    new StoreCheckpointSaver(api.store.checkpoints),
  );
  const executor = new RunExecutor({
    kind: "engineering",
    store: api.store,
    bus: api.bus,
    logger,
    execute: (runId, signal, log) => runner.execute(runId, signal, log),
    leaseTtlMs: 30_000,
  });
  const deployExecutor = new RunExecutor({
    kind: "deploy",
    store: api.store,
    bus: api.bus,
    logger,
    execute: (runId, signal, log) => devops.execute(runId, signal, log),
    leaseTtlMs: 30_000,
  });
  executor.start();
  deployExecutor.start();
  // The engine role's recovery scans, as its scheduler runs them.
  const scheduler = new Scheduler({
    holder: `engine-harness-${process.pid}`,
    leases: api.store.jobLeases,
    logger,
  });
  scheduler.add(executor.recoveryJob(1_000));
  scheduler.add(deployExecutor.recoveryJob(1_000));
  scheduler.start();
  if (opts.deployOnGreen && !opts.holdDeployAfterGreen) await newAfterGreen().start();
  const tool = async <T>(name: string, input: unknown): Promise<T> => {
    const res = await fetch(`${url}/api/tools/${name}`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(input),
    });
    const body = (await res.json()) as { data?: T; error?: unknown };
    if (!res.ok || body.data === undefined) throw new Error(`${name}: ${res.status} ${JSON.stringify(body)}`);
    return body.data;
  };
  return {
    driver,
    devopsDeps,
    deployRoot,
    tool,
    afterGreen: newAfterGreen,
    ...api,
    url,
    forge,
    manager,
    executor,
    setPlaybook(next) {
      playbook = next;
    },
    start: (input) => tool<Run>("engineering.start", input),
    async waitForEnd(runId, deadlineMs = RUN_DEADLINE_MS) {
      const until = Date.now() + deadlineMs;
      for (;;) {
        const run = await api.store.runs.get(runId);
        if (["succeeded", "failed", "blocked", "cancelled"].includes(run.status)) return run;
        if (Date.now() > until) throw new Error(`run ${runId} still ${run.status} at stage ${run.stage}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async close() {
      for (const subscriber of subscribers) await subscriber.stop(5_000);
      await scheduler.stop(5_000);
      await executor.stop(5_000);
      await deployExecutor.stop(5_000);
      await driver.close();
      for (const info of await runtime.list()) await runtime.remove(info);
      await api.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
