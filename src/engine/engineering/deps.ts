import type { AgentBackend } from "../../contracts/index.js";
import type { RunJournal } from "../../events/index.js";
import type { Forge } from "../../git/index.js";
import type { Logger } from "../../observability/index.js";
import type { Store } from "../../store/index.js";
import type { WorkerService } from "../../workers/index.js";

/** What the engineering stages work with. */
export interface EngineeringDeps {
  store: Store;
  workers: WorkerService;
  forge: Forge;
  journal: RunJournal;
  logger: Logger;
  /** Where the orchestrator makes its own throwaway checkouts (Preparer, merge). */
  workDir: string;
  /** Developer -> Tester rounds before the run ends `blocked`. */
  maxIterations: number;
  /** Bound on the template's install command, and on its test command, in the Tester. */
  installTimeoutMs: number;
  testTimeoutMs: number;
  /** The tool reference written into AGENTS.md (generated from the tool registry). */
  toolReference: string;
  /** When set, every agent stage uses this backend instead of its agent config's (the demo: `scripted`). */
  agentBackend?: AgentBackend;
  /**
   * A deploy follows a green run (the deploy-after-green subscriber reacts to its `succeeded`
   * event): a new project waits as `deploying` rather than `draft`.
   */
  deploysOnGreen?: boolean;
}

/**
 * Terminates the run's workers of a role, saying why in the worker's record and the log: a stage
 * starting over replaces what an earlier attempt left; a finished run ends what it still holds.
 */
export async function terminateWorkersOf(
  deps: EngineeringDeps,
  runId: string,
  projectId: string,
  role: "architect" | "developer" | "tester",
  opts: { keep?: string | null; reason: string },
): Promise<void> {
  for (const state of ["running", "paused", "starting"] as const) {
    const page = await deps.workers.list({ projectId, state, limit: 100 });
    for (const worker of page.items) {
      if (worker.runId === runId && worker.role === role && worker.id !== opts.keep) {
        await deps.workers
          .terminate(worker.id, opts.reason)
          .catch((error: unknown) =>
            deps.logger.warn({ err: error, workerId: worker.id, runId }, "could not terminate a worker"),
          );
      }
    }
  }
}
