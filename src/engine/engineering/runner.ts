import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import {
  EngineeringRunInput,
  type ProjectStatus,
  type RunOutcomeCode,
  RunStatusMachine,
} from "../../contracts/index.js";
import type { Logger } from "../../observability/index.js";
import { BUDGET_EXHAUSTED, budgetFor, ensureBudget, pauseForBudget } from "../budget.js";
import { type RunnableGraph, runGraph } from "../graph-run.js";
import { runLogger } from "../run-logger.js";
import { ACCEPTANCE_REVISIONS_PER_RUN } from "./acceptance.js";
import { type EngineeringDeps, terminateWorkersOf } from "./deps.js";
import { buildEngineeringGraph } from "./graph.js";
import { changeBranch } from "./preparer.js";
import { EMPTY_INPUT, type EngineeringStateValue, type Outcome, resultOf } from "./state.js";

/** Project statuses an engineering run may move a project from when it starts. */
const BUILDABLE: ProjectStatus[] = ["draft", "failed", "blocked", "stopped"];

/**
 * Executes one engineering run under the executor's lease: starts it, runs or resumes its graph
 * from the last checkpoint, and writes the terminal status with a typed result. A run whose engine
 * stops mid-way is left running (it resumes elsewhere); an error inside a stage fails it, truthfully.
 */
export class EngineeringRunner {
  constructor(
    private readonly deps: EngineeringDeps,
    private readonly checkpointer: BaseCheckpointSaver,
  ) {}

  /**
   * Executes the run; `runLog` is the run's logger (`runLogger`, made by the executor), given to
   * every stage of its graph. Without one the runner makes it.
   */
  async execute(runId: string, signal: AbortSignal, runLog?: Logger): Promise<void> {
    const { store, journal } = this.deps;
    const run = await store.runs.get(runId);
    const deps: EngineeringDeps = { ...this.deps, logger: runLog ?? runLogger(this.deps.logger, run) };
    // Ended, or paused on its budget until an admin decides.
    if (RunStatusMachine.isTerminal(run.status) || run.status === "awaiting_approval") return;
    if (run.status === "queued") {
      // The Architect's turns (the spec, and each answer to an acceptance question) and every
      // Developer attempt, unless the project sets its own budget.
      const budget = await budgetFor(store, run.projectId, [
        { role: "architect", turns: 1 + ACCEPTANCE_REVISIONS_PER_RUN },
        { role: "developer", turns: this.deps.maxIterations },
      ]);
      await ensureBudget(store, run, budget);
      await journal.move(runId, "running");
      if (this.deps.agentBackend === "scripted") {
        await journal.log(
          runId,
          "demo: the agents of this run are the scripted agent (no model); its code is canned",
        );
      }
    }
    const parsed = EngineeringRunInput.safeParse(run.input);
    if (!parsed.success) {
      await this.finish(
        deps,
        runId,
        null,
        failure("invalid_input", "the run's input is not an engineering request"),
      );
      return;
    }
    const project = await store.projects.get(run.projectId);
    if (BUILDABLE.includes(project.status)) await store.projects.setStatus(project.id, "building");

    const graph = buildEngineeringGraph(deps, this.checkpointer);
    const ran = await runGraph<EngineeringStateValue>(
      graph as unknown as RunnableGraph<EngineeringStateValue>,
      runId,
      () => this.initialState(runId, project.id, parsed.data),
      { signal, journal },
    );
    if (!ran) {
      // Cancelled while it ran: its agents stop too. Otherwise the engine is stopping, or the
      // database went away, and the checkpoint resumes the run once its lease is taken again.
      await this.stopWorkersIfEnded(deps, runId);
      return;
    }
    if (ran.error?.code === BUDGET_EXHAUSTED) {
      // Paused, not ended: the stage that hit the budget runs again from its checkpoint on a grant.
      await pauseForBudget(store, journal, runId);
      return;
    }
    if (ran.error) deps.logger.error({ error: ran.error }, "engineering stage failed");
    const outcome =
      (ran.error && failure(ran.error.code, ran.error.message)) ??
      ran.final?.outcome ??
      failure("no_outcome", "the graph ended without an outcome");
    await this.finish(deps, runId, ran.final, outcome);
  }

  private async initialState(runId: string, projectId: string, input: EngineeringRunInput) {
    const state: Partial<EngineeringStateValue> = { runId, projectId, input };
    // A resumed change stays on the branch it was built on (the `resume` stage sets the repo).
    if (input.mode === "change" && !input.resumeAt) {
      const project = await this.deps.store.projects.get(projectId);
      const repo = { name: project.slug };
      const defaultBranch = await this.deps.forge.defaultBranch(repo);
      state.repo = {
        name: project.slug,
        cloneUrl: project.repositoryUrl ?? "",
        defaultBranch,
        branch: changeBranch(runId),
      };
      state.template = project.template;
    }
    return state;
  }

  /** Ends the agents of a run someone else ended (an admin's cancel) while its graph ran. */
  private async stopWorkersIfEnded(deps: EngineeringDeps, runId: string): Promise<void> {
    const run = await deps.store.runs.get(runId);
    if (!RunStatusMachine.isTerminal(run.status)) return;
    for (const role of ["architect", "developer", "tester"] as const) {
      await terminateWorkersOf(deps, runId, run.projectId, role, {
        reason: `the run ended ${run.status}`,
      }).catch((err: unknown) => deps.logger.warn({ err }, "could not terminate a worker of an ended run"));
    }
  }

  private async finish(
    deps: EngineeringDeps,
    runId: string,
    state: EngineeringStateValue | null,
    outcome: Outcome,
  ): Promise<void> {
    const { store, journal, logger } = deps;
    const run = await store.runs.get(runId);
    for (const role of ["architect", "developer", "tester"] as const) {
      await terminateWorkersOf(deps, runId, run.projectId, role, {
        reason: `the run ended ${outcome.status}`,
      }).catch((err: unknown) => logger.warn({ err }, "could not terminate a worker of a finished run"));
    }
    const result = resultOf(state ?? emptyState(runId, run.projectId), outcome);
    try {
      await journal.move(runId, outcome.status, {
        result,
        ...(outcome.status === "succeeded"
          ? {}
          : { error: { code: outcome.code, message: outcome.message } }),
      });
    } catch (cause) {
      // Someone else ended it (e.g. cancelled): theirs stands.
      logger.warn({ err: cause }, "run already ended");
      return;
    }
    const project = await store.projects.get(run.projectId);
    const deploys =
      outcome.status === "succeeded" && outcome.commit !== null && this.deps.deploysOnGreen === true;
    if (project.status === "building") {
      // Green code goes on to its deploy; without a deploy pipeline it waits as a draft.
      const next: ProjectStatus =
        outcome.status === "succeeded" ? (deploys ? "deploying" : "draft") : outcome.status;
      await store.projects.setStatus(project.id, next);
    }
    logger.info({ outcome: outcome.status, code: outcome.code }, "engineering run finished");
  }
}

function failure(code: RunOutcomeCode, message: string): Outcome {
  return { status: "failed", code, message, question: null, commit: null };
}

function emptyState(runId: string, projectId: string): EngineeringStateValue {
  return {
    runId,
    projectId,
    input: EMPTY_INPUT,
    spec: null,
    template: null,
    manifest: null,
    acceptanceFiles: null,
    repo: null,
    preparedCommit: null,
    acceptanceRevisions: 0,
    acceptanceAnswer: null,
    lastTestedCommit: null,
    developerWorkerId: null,
    iteration: 0,
    lastReport: null,
    lastTest: null,
    outcome: null,
  };
}
