import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import {
  DeployRunInput,
  type DeployRunResult,
  type RunEventCreate,
  type RunOutcomeCode,
  RunStatusMachine,
} from "../../contracts/index.js";
import type { Logger } from "../../observability/index.js";
import { type RunnableGraph, runGraph } from "../graph-run.js";
import { runLogger } from "../run-logger.js";
import type { DevopsDeps } from "./deps.js";
import { buildDevopsGraph } from "./graph.js";
import { moveProject } from "./helpers.js";
import type { DeployOutcome, DevopsStateValue } from "./state.js";

/**
 * Executes one deploy run under the executor's lease, like the engineering runner: runs or resumes
 * the devops graph, then writes the terminal status, the typed result and the terminal event the
 * chat delivers (`deploy.succeeded` with the URL or bot, `deploy.failed` with the reason,
 * `deploy.blocked` with the missing names).
 */
export class DevopsRunner {
  constructor(
    private readonly deps: DevopsDeps,
    private readonly checkpointer: BaseCheckpointSaver,
  ) {}

  /**
   * Executes the run; `runLog` is the run's logger (`runLogger`, made by the executor), given to
   * every step of its graph. Without one the runner makes it.
   */
  async execute(runId: string, signal: AbortSignal, runLog?: Logger): Promise<void> {
    const { store, journal } = this.deps;
    const run = await store.runs.get(runId);
    const deps: DevopsDeps = { ...this.deps, logger: runLog ?? runLogger(this.deps.logger, run) };
    if (RunStatusMachine.isTerminal(run.status)) return;
    if (run.status === "queued") await journal.move(runId, "running");
    const parsed = DeployRunInput.safeParse(run.input);
    if (!parsed.success) {
      await this.finish(
        deps,
        runId,
        null,
        failure("invalid_input", "the run's input is not a deploy request"),
        "deploy",
      );
      return;
    }
    const input = { ...parsed.data, projectId: run.projectId };
    if (input.action !== "teardown") await moveProject(store, run.projectId, "deploying");
    const graph = buildDevopsGraph(deps, this.checkpointer);
    const ran = await runGraph<DevopsStateValue>(
      graph as unknown as RunnableGraph<DevopsStateValue>,
      runId,
      async () => ({ runId, input }),
      { signal, journal },
    );
    if (!ran) return;
    if (ran.error) deps.logger.error({ error: ran.error }, "deploy stage failed");
    const outcome =
      (ran.error && failure(ran.error.code, ran.error.message)) ??
      ran.final?.outcome ??
      failure("no_outcome", "the graph ended without an outcome");
    await this.finish(deps, runId, ran.final, outcome, input.action);
  }

  private async finish(
    deps: DevopsDeps,
    runId: string,
    state: DevopsStateValue | null,
    outcome: DeployOutcome,
    action: DeployRunResult["action"],
  ): Promise<void> {
    const { store, journal, logger } = deps;
    const result: DeployRunResult = {
      outcome: outcome.status,
      action,
      commit: state?.commit ?? null,
      release: state?.release ?? null,
      deploymentId: state?.deploymentId ?? null,
      url: outcome.url,
      botUsername: outcome.botUsername,
      missing: outcome.missing,
      restoredPrevious: outcome.restoredPrevious,
      summary: outcome.message,
    };
    const run = await store.runs.get(runId);
    if (RunStatusMachine.isTerminal(run.status)) {
      logger.warn({ status: run.status }, "run already ended");
      return;
    }
    if (action !== "teardown" && outcome.status !== "succeeded") {
      // Before the run ends, so a process stopped in between leaves the project's state true.
      // A failed deploy with the previous release serving again leaves the project live.
      await moveProject(store, run.projectId, outcome.restoredPrevious ? "live" : outcome.status);
    }
    // The deploy's outcome is stored with the run's end, in one transaction: never one without the other.
    const also: RunEventCreate[] =
      action === "teardown"
        ? []
        : [
            {
              runId,
              type:
                outcome.status === "succeeded"
                  ? "deploy.succeeded"
                  : outcome.status === "blocked"
                    ? "deploy.blocked"
                    : "deploy.failed",
              data: {
                projectId: run.projectId,
                commit: result.commit,
                url: result.url,
                botUsername: result.botUsername,
                missing: result.missing,
                reason: outcome.status === "succeeded" ? null : outcome.message,
                restoredPrevious: result.restoredPrevious,
              },
            },
          ];
    try {
      await journal.move(
        runId,
        outcome.status,
        {
          result,
          ...(outcome.status === "succeeded"
            ? {}
            : { error: { code: outcome.code, message: outcome.message } }),
        },
        also,
      );
    } catch (cause) {
      logger.warn({ err: cause }, "run already ended");
      return;
    }
    logger.info({ outcome: outcome.status, code: outcome.code }, "deploy run finished");
  }
}

function failure(code: RunOutcomeCode, message: string): DeployOutcome {
  return {
    status: "failed",
    code,
    message,
    missing: [],
    url: null,
    botUsername: null,
    restoredPrevious: false,
  };
}
