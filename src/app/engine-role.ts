import { join } from "node:path";
import type { Bus } from "../bus/index.js";
import type { Config } from "../config/index.js";
import { DEFAULT_PORT_RANGE } from "../deploy/allocation/index.js";
import { LocalDriver } from "../deploy/drivers/local/index.js";
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
import type { SecretsService } from "../secrets/index.js";
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

/** Builds the engineering runner on the store's checkpointer and starts picking up runs. */
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
}): Promise<EngineRole> {
  const { config, store, bus } = deps;
  const logger = componentLogger(deps.logger, "engine");
  const journal = new RunJournal(store);
  const checkpointer = new StoreCheckpointSaver(store.checkpoints);
  const deployRoot = join(config.dataDir, "deploy");
  const driver = new LocalDriver({ root: deployRoot, logger: componentLogger(deps.logger, "deploy") });
  const devopsDeps: DevopsDeps = {
    store,
    forge: deps.forge,
    driver,
    secrets: deps.secrets,
    journal,
    logger,
    portRange: DEFAULT_PORT_RANGE,
    appEnv: "production",
    telegramApiRoot: config.deploy.telegramApiRoot,
    gate: { intervalMs: 1_000, deadlineMs: config.deploy.healthDeadlineMs },
  };
  await reconcileLocal(devopsDeps, deployRoot);
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
      await Promise.all([engineering.stop(deadlineMs), deploy.stop(deadlineMs)]);
      // Services stop with the orchestrator; their records bring them back at the next start.
      await driver.close();
    },
  };
}
