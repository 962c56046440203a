import { join } from "node:path";
import type { Bus } from "../bus/index.js";
import type { Config } from "../config/index.js";
import {
  createDeployDriver,
  type DeployDriver,
  ServerConnector,
  sshDeployConnector,
} from "../deploy/index.js";
import {
  type CheckoutOwners,
  checkoutsGcJob,
  type DevopsDeps,
  DevopsRunner,
  deployAfterGreenSubscriber,
  disposeWorkDir,
  driverMaintenanceJob,
  EngineeringRunner,
  healthMonitorJob,
  processWorkDir,
  RunExecutor,
  recoverReleases,
  StoreCheckpointSaver,
} from "../engine/index.js";
import { RunJournal } from "../events/index.js";
import { type Forge, GithubForge } from "../git/index.js";
import { componentLogger, type Logger, type Metrics } from "../observability/index.js";
import { gcJob, type Scheduler } from "../scheduler/index.js";
import type { BotTokens, SecretsService, Vault } from "../secrets/index.js";
import type { OwnerRef, Store } from "../store/index.js";
import type { WorkerService } from "../workers/index.js";
import { ciSecretsSubscriber } from "./forge.js";
import { developerToolReference } from "./tool-reference.js";

/** The `engine` role of a process: executes engineering and deploy runs. */
export interface EngineRole {
  engineering: RunExecutor;
  deploy: RunExecutor;
  stop(deadlineMs?: number): Promise<void>;
}

/**
 * The configured deploy driver: supervised processes under `<data>/deploy`, owned in the store by
 * this engine instance (engines may share the data directory), or Compose over SSH.
 */
function buildDriver(deps: {
  config: Config;
  store: Store;
  vault: Vault;
  logger: Logger;
  instance: OwnerRef;
}): DeployDriver {
  const { deploy } = deps.config;
  return createDeployDriver({
    kind: deploy.driver,
    logger: componentLogger(deps.logger, "deploy"),
    local: {
      root: localRoot(deps.config),
      store: deps.store,
      self: deps.instance,
      leaseTtlMs: deps.config.instanceTtlMs,
    },
    sshCompose: {
      connector: sshDeployConnector(new ServerConnector({ store: deps.store, vault: deps.vault })),
      baseImage: deploy.baseImage,
      remoteRoot: deploy.remoteRoot,
      buildNetwork: deploy.buildNetwork,
    },
  });
}

function localRoot(config: Config): string {
  return join(config.dataDir, "deploy");
}

/**
 * Builds the engineering and devops runners on the store's checkpointer and starts picking up
 * runs; first lets the deploy driver recover what
 * should run and nobody supervises, then runs its periodic supervision pass while it runs.
 */
export async function startEngineRole(deps: {
  config: Config;
  store: Store;
  bus: Bus;
  logger: Logger;
  workers: WorkerService;
  forge: Forge;
  /** `up --demo`: every agent is the scripted one. */
  demo: boolean;
  secrets: SecretsService;
  bots: BotTokens;
  vault: Vault;
  /** This process's heartbeat: the owner its local releases are recorded under. */
  instance: OwnerRef;
  /**
   * The process's scheduler: runs the supervision of this engine's releases and the run recovery
   * scans (leader jobs, here because they start the runs they find in this engine).
   */
  scheduler: Scheduler;
  /** Counts what the engine's garbage collection removes. */
  metrics?: Metrics;
}): Promise<EngineRole> {
  const { config, store, bus } = deps;
  const logger = componentLogger(deps.logger, "engine");
  const journal = new RunJournal({ store, bus, logger });
  const checkpointer = new StoreCheckpointSaver(store.checkpoints);
  const driver = buildDriver({
    config,
    store,
    vault: deps.vault,
    logger: deps.logger,
    instance: deps.instance,
  });
  const devopsDeps: DevopsDeps = {
    store,
    forge: deps.forge,
    driver,
    secrets: deps.secrets,
    bots: deps.bots,
    journal,
    logger,
    portRange: config.deploy.portRange,
    appEnv: "production",
    telegramApiRoot: config.deploy.telegramApiRoot,
    gate: { intervalMs: 1_000, deadlineMs: config.deploy.healthDeadlineMs },
  };
  // The driver brings back what should run and nobody supervises (local releases stopped with
  // their engine; Compose restarts those on servers), then supervises ownership periodically.
  await recoverReleases(devopsDeps);
  deps.scheduler.add(driverMaintenanceJob(devopsDeps, Math.max(250, Math.floor(config.instanceTtlMs / 3))));
  // Garbage collection: checkouts a crash left behind, and old releases of what this engine runs
  // (each deploy prunes too; this pass also takes what a crashed build left).
  const gc = { intervalMs: config.gc.intervalMs, metrics: deps.metrics ?? null };
  deps.scheduler.add(
    gcJob({
      ...gc,
      name: "gc.releases",
      kind: "releases",
      scope: "every-process",
      logger,
      collect: () => driver.collectReleases(),
    }),
  );
  // Engines may share a data directory: each makes its checkouts in a folder of its own incarnation.
  const engineDir = join(config.dataDir, "engine");
  const checkoutOwners: CheckoutOwners = {
    engineDir,
    self: deps.instance.incarnation,
    liveIncarnations: async () =>
      new Set((await store.instances.list()).filter((i) => i.alive).map((i) => i.incarnation)),
  };
  deps.scheduler.add(
    checkoutsGcJob({
      ...gc,
      workDir: engineDir,
      ageMs: config.gc.workspaceAgeMs,
      logger,
      owners: checkoutOwners,
    }),
  );
  // The health monitor of live deployments: here, beside the driver its restarts need; one engine at a time.
  const { monitor } = config;
  if (monitor.intervalMs !== null) {
    deps.scheduler.add(
      healthMonitorJob({
        devops: devopsDeps,
        bus,
        policy: { ...monitor, intervalMs: monitor.intervalMs },
        metrics: deps.metrics ?? null,
      }),
    );
  } else logger.info("health monitor of live deployments off (MONITOR_INTERVAL=off)");
  const devops = new DevopsRunner(devopsDeps, checkpointer);
  const runner = new EngineeringRunner(
    {
      store,
      workers: deps.workers,
      forge: deps.forge,
      journal,
      logger,
      workDir: processWorkDir(engineDir, deps.instance.incarnation),
      maxIterations: config.engine.maxIterations,
      installTimeoutMs: config.engine.installTimeoutMs,
      testTimeoutMs: config.engine.testTimeoutMs,
      toolReference: developerToolReference(),
      ...(deps.demo ? { agentBackend: "scripted" as const } : {}),
      deploysOnGreen: true,
    },
    checkpointer,
  );
  const engineering = new RunExecutor({
    kind: "engineering",
    store,
    bus,
    logger,
    execute: (runId, signal, log) => runner.execute(runId, signal, log),
    leaseTtlMs: config.engine.leaseTtlMs,
  });
  const deploy = new RunExecutor({
    kind: "deploy",
    store,
    bus,
    logger,
    execute: (runId, signal, log) => devops.execute(runId, signal, log),
    leaseTtlMs: config.engine.leaseTtlMs,
  });
  engineering.start();
  deploy.start();
  // Runs whose engine died are looked for by one engine process at a time.
  deps.scheduler.add(engineering.recoveryJob(config.engine.recoveryIntervalMs));
  deps.scheduler.add(deploy.recoveryJob(config.engine.recoveryIntervalMs));
  // A green engineering run deploys its commit, once (deduplicated by the run's id), also when it
  // succeeded while no engine was listening.
  const afterGreen = deployAfterGreenSubscriber({ store, bus, journal, logger });
  await afterGreen.start();
  // On GitHub, the secrets a project's CI needs follow its green runs as sealed Actions secrets.
  const ciSecrets =
    deps.forge instanceof GithubForge
      ? ciSecretsSubscriber({ store, bus, logger, forge: deps.forge, secrets: deps.secrets })
      : null;
  await ciSecrets?.start();
  return {
    engineering,
    deploy,
    async stop(deadlineMs) {
      await Promise.all([
        engineering.stop(deadlineMs),
        deploy.stop(deadlineMs),
        afterGreen.stop(deadlineMs),
        ciSecrets?.stop(deadlineMs),
      ]);
      // Local services stop with the orchestrator and are given up (a live engine adopts them at
      // once, or this one at its next start); on servers Compose keeps them running and only the
      // SSH connections close.
      await driver.close();
      // Its runs have stopped (a stage cut short left its checkout): nothing of this process's
      // work directory is needed now, nor that of engines no longer alive.
      await disposeWorkDir(checkoutOwners).catch((err: unknown) =>
        logger.warn({ err }, "could not remove the engine's work directory"),
      );
    },
  };
}
