import { join } from "node:path";
import type { Bus } from "../bus/index.js";
import type { Config } from "../config/index.js";
import type { DeployDriver } from "../deploy/driver.js";
import { LocalDriver, ReleaseOwnership } from "../deploy/drivers/local/index.js";
import { SshComposeDriver } from "../deploy/drivers/ssh-compose/index.js";
import type { ServerService } from "../deploy/servers/index.js";
import {
  type DevopsDeps,
  DevopsRunner,
  EngineeringRunner,
  LocalReleaseWatch,
  RunExecutor,
  RunJournal,
  reconcileLocal,
  requestDeploy,
  StoreCheckpointSaver,
} from "../engine/index.js";
import type { Forge } from "../git/index.js";
import { componentLogger, type Logger } from "../observability/index.js";
import type { SecretsService, Vault } from "../secrets/index.js";
import type { OwnerRef, Store } from "../store/index.js";
import { createToolRegistry, renderToolReference } from "../tools/index.js";
import { WORKER_TOOL_GROUPS, type WorkerService } from "../workers/index.js";

/** The `engine` role of a process: executes engineering and deploy runs. */
export interface EngineRole {
  engineering: RunExecutor;
  deploy: RunExecutor;
  stop(deadlineMs?: number): Promise<void>;
}

/** The tool reference a developer's AGENTS.md carries: exactly the tools its token may call. */
export function developerToolReference(): string {
  const tools = createToolRegistry().listFor({
    kind: "worker",
    tokenId: "00000000-0000-0000-0000-000000000000",
    projectId: "00000000-0000-0000-0000-000000000000",
    role: "developer",
    workerId: null,
    groups: [...WORKER_TOOL_GROUPS],
  });
  return renderToolReference(tools);
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
  const logger = componentLogger(deps.logger, "deploy");
  const { deploy } = deps.config;
  if (deploy.driver === "local") {
    const ownership = new ReleaseOwnership({
      store: deps.store,
      self: deps.instance,
      leaseTtlMs: deps.config.instanceTtlMs,
      logger,
    });
    return new LocalDriver({ root: localRoot(deps.config), logger, ownership });
  }
  return new SshComposeDriver({
    store: deps.store,
    vault: deps.vault,
    logger,
    baseImage: deploy.baseImage,
    remoteRoot: deploy.remoteRoot,
    buildNetwork: deploy.buildNetwork,
  });
}

function localRoot(config: Config): string {
  return join(config.dataDir, "deploy");
}

/**
 * Builds the engineering and devops runners on the store's checkpointer and starts picking up
 * runs; re-checks registered servers periodically; with the local driver, first adopts the
 * releases nobody supervises (those that ran when this orchestrator stopped, or whose engine is
 * gone), then keeps watching ownership while it runs.
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
  vault: Vault;
  servers: ServerService;
  /** This process's heartbeat: the owner its local releases are recorded under. */
  instance: OwnerRef;
}): Promise<EngineRole> {
  const { config, store, bus } = deps;
  const logger = componentLogger(deps.logger, "engine");
  const journal = new RunJournal(store);
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
    journal,
    logger,
    portRange: config.deploy.portRange,
    appEnv: "production",
    telegramApiRoot: config.deploy.telegramApiRoot,
    gate: { intervalMs: 1_000, deadlineMs: config.deploy.healthDeadlineMs },
  };
  // Releases on servers keep running (Compose restarts them); local ones stopped with their
  // engine: bring back those nobody supervises now, then keep an eye on ownership.
  let watch: LocalReleaseWatch | null = null;
  if (driver instanceof LocalDriver) {
    await reconcileLocal(devopsDeps, localRoot(config));
    watch = new LocalReleaseWatch({
      deps: devopsDeps,
      driver,
      root: localRoot(config),
      intervalMs: Math.max(250, Math.floor(config.instanceTtlMs / 3)),
    });
    watch.start();
  }
  deps.servers.startHealthChecks(config.deploy.serverCheckIntervalMs);
  const devops = new DevopsRunner(devopsDeps, checkpointer);
  const runner = new EngineeringRunner(
    {
      store,
      workers: deps.workers,
      forge: deps.forge,
      journal,
      logger,
      workDir: join(config.dataDir, "engine"),
      maxIterations: config.engine.maxIterations,
      installTimeoutMs: config.engine.installTimeoutMs,
      testTimeoutMs: config.engine.testTimeoutMs,
      toolReference: developerToolReference(),
      ...(deps.demo ? { agentBackend: "scripted" as const } : {}),
      // A green engineering run deploys its commit, once (deduplicated by the run's id).
      onSucceeded: async (run, commit) => {
        await requestDeploy(store, bus, {
          projectId: run.projectId,
          action: "deploy",
          commit,
          sourceRunId: run.id,
        });
      },
    },
    checkpointer,
  );
  const engineering = new RunExecutor({
    kind: "engineering",
    store,
    bus,
    logger,
    execute: (runId, signal) => runner.execute(runId, signal),
    leaseTtlMs: config.engine.leaseTtlMs,
    recoveryIntervalMs: config.engine.recoveryIntervalMs,
  });
  const deploy = new RunExecutor({
    kind: "deploy",
    store,
    bus,
    logger,
    execute: (runId, signal) => devops.execute(runId, signal),
    leaseTtlMs: config.engine.leaseTtlMs,
    recoveryIntervalMs: config.engine.recoveryIntervalMs,
  });
  engineering.start();
  deploy.start();
  return {
    engineering,
    deploy,
    async stop(deadlineMs) {
      await Promise.all([
        watch?.stop(),
        engineering.stop(deadlineMs),
        deploy.stop(deadlineMs),
        deps.servers.stop(),
      ]);
      // Local services stop with the orchestrator and are given up (a live engine adopts them at
      // once, or this one at its next start); on servers Compose keeps them running and only the
      // SSH connections close.
      await driver.close();
    },
  };
}
