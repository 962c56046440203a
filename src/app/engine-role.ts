import { join } from "node:path";
import type { Bus } from "../bus/index.js";
import type { Config } from "../config/index.js";
import type { DeployDriver } from "../deploy/driver.js";
import { LocalDriver } from "../deploy/drivers/local/index.js";
import { SshComposeDriver } from "../deploy/drivers/ssh-compose/index.js";
import type { ServerService } from "../deploy/servers/index.js";
import {
  type DevopsDeps,
  DevopsRunner,
  EngineeringRunner,
  RunExecutor,
  RunJournal,
  reconcileLocal,
  requestDeploy,
  StoreCheckpointSaver,
} from "../engine/index.js";
import type { Forge } from "../git/index.js";
import { componentLogger, type Logger } from "../observability/index.js";
import type { SecretsService, Vault } from "../secrets/index.js";
import type { Store } from "../store/index.js";
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

/** The configured deploy driver: supervised processes under `<data>/deploy`, or Compose over SSH. */
function buildDriver(deps: { config: Config; store: Store; vault: Vault; logger: Logger }): DeployDriver {
  const logger = componentLogger(deps.logger, "deploy");
  const { deploy } = deps.config;
  if (deploy.driver === "local")
    return new LocalDriver({ root: join(deps.config.dataDir, "deploy"), logger });
  return new SshComposeDriver({
    store: deps.store,
    vault: deps.vault,
    logger,
    baseImage: deploy.baseImage,
    remoteRoot: deploy.remoteRoot,
    buildNetwork: deploy.buildNetwork,
  });
}

/**
 * Builds the engineering and devops runners on the store's checkpointer and starts picking up
 * runs; re-checks registered servers periodically; with the local driver, first restarts the
 * releases that ran when the orchestrator stopped.
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
}): Promise<EngineRole> {
  const { config, store, bus } = deps;
  const logger = componentLogger(deps.logger, "engine");
  const journal = new RunJournal(store);
  const checkpointer = new StoreCheckpointSaver(store.checkpoints);
  const driver = buildDriver({ config, store, vault: deps.vault, logger: deps.logger });
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
  // Releases on servers keep running (Compose restarts them); local ones stopped with us.
  if (driver.kind === "local") await reconcileLocal(devopsDeps, join(config.dataDir, "deploy"));
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
      await Promise.all([engineering.stop(deadlineMs), deploy.stop(deadlineMs), deps.servers.stop()]);
      // Local services stop with the orchestrator (their records bring them back at the next
      // start); on servers Compose keeps them running and only the SSH connections close.
      await driver.close();
    },
  };
}
