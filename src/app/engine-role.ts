import { join } from "node:path";
import type { Bus } from "../bus/index.js";
import type { Config } from "../config/index.js";
import { EngineeringRunner, RunExecutor, RunJournal, StoreCheckpointSaver } from "../engine/index.js";
import type { Forge } from "../git/index.js";
import { componentLogger, type Logger } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { createToolRegistry, renderToolReference } from "../tools/index.js";
import { WORKER_TOOL_GROUPS, type WorkerService } from "../workers/index.js";

/** The `engine` role of a process: executes engineering runs (later: deploy and provisioning). */
export interface EngineRole {
  engineering: RunExecutor;
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
export function startEngineRole(deps: {
  config: Config;
  store: Store;
  bus: Bus;
  logger: Logger;
  workers: WorkerService;
  forge: Forge;
  /** `up --demo`: every agent is the scripted one. */
  demo: boolean;
}): EngineRole {
  const { config, store, bus } = deps;
  const logger = componentLogger(deps.logger, "engine");
  const runner = new EngineeringRunner(
    {
      store,
      workers: deps.workers,
      forge: deps.forge,
      journal: new RunJournal(store),
      logger,
      workDir: join(config.dataDir, "engine"),
      maxIterations: config.engine.maxIterations,
      installTimeoutMs: config.engine.installTimeoutMs,
      testTimeoutMs: config.engine.testTimeoutMs,
      toolReference: developerToolReference(),
      ...(deps.demo ? { agentBackend: "scripted" as const } : {}),
    },
    new StoreCheckpointSaver(store.checkpoints),
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
  engineering.start();
  return { engineering, stop: (deadlineMs) => engineering.stop(deadlineMs) };
}
