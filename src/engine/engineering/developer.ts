import type { AgentResult, Worker } from "../../contracts/index.js";
import { ACCEPTANCE_REVISIONS_PER_RUN } from "./acceptance.js";
import { outcomeOfTurn } from "./architect.js";
import { type EngineeringDeps, terminateWorkersOf } from "./deps.js";
import { retryOnNodeLoss, type StageTry } from "./node-loss.js";
import { developerPrompt } from "./prompts.js";
import { cloneIntoWorkspace } from "./sandbox-git.js";
import type { EngineeringStateValue, EngineeringUpdate, Outcome } from "./state.js";

const LIVE: Worker["state"][] = ["starting", "running", "paused"];

/**
 * Developer (worker): implements TASK.md, runs the tests, commits, pushes and reports the commit.
 * One worker (and so one agent session) serves every attempt of the run; after a red test it gets
 * the tester's output. Its report is a claim only: the Tester decides. A `blocked` report about an
 * acceptance test goes to the Architect (the `revise` stage) without using up an attempt, as long
 * as the run has answers left; the worker waits paused for the answer.
 *
 * Replay safety: the attempt number is written to the run and the worker's old report cleared
 * before the turn starts, so a stage replayed after a crash that finds a paused worker with a
 * report for this attempt takes that report instead of running (and committing) again.
 */
export async function developer(
  deps: EngineeringDeps,
  state: EngineeringStateValue,
): Promise<EngineeringUpdate> {
  const repo = state.repo;
  const acceptanceDir = state.manifest?.acceptance?.dir;
  if (!repo || !acceptanceDir) throw new Error("developer stage before the preparer");
  await deps.journal.stage(state.runId, "developer", { iteration: state.iteration + 1 });

  // A lost node loses the turn with the worker's session and unpushed work: a fresh worker starts
  // again from the pushed branch, as after a restart that took the workspace.
  return retryOnNodeLoss(deps, { runId: state.runId, stage: "developer" }, (attempt) =>
    developerTurn(deps, state, { repo, acceptanceDir }, attempt),
  );
}

/** One try of the Developer stage: on the run's live developer worker, else on a fresh one. */
async function developerTurn(
  deps: EngineeringDeps,
  state: EngineeringStateValue,
  { repo, acceptanceDir }: { repo: NonNullable<EngineeringStateValue["repo"]>; acceptanceDir: string },
  attempt: StageTry,
): Promise<EngineeringUpdate> {
  const { runId, projectId } = state;
  const turn = state.iteration + 1;
  // A stage that stopped mid-turn (its run paused on the budget) left its worker paused, with the
  // session and the unpushed work in its workspace: take it up again rather than start over.
  const known = state.developerWorkerId ?? (await pausedDeveloperOf(deps, runId, projectId));
  let worker = known && !attempt.lostWorkers.has(known) ? await liveWorker(deps, known) : null;
  const run = await deps.store.runs.get(runId);
  if (worker && run.iteration === turn && worker.state === "paused" && worker.report) {
    await deps.journal.log(runId, `attempt ${turn} had already reported before a restart; using that report`);
    return afterTurn(deps, state, worker.id, {
      ok: true,
      report: worker.report,
      error: null,
      stopReason: "completed",
    });
  }
  await terminateWorkersOf(deps, runId, projectId, "developer", {
    keep: worker?.id ?? null,
    reason: "replaced by a resumed stage",
  });
  const config = await deps.store.agentConfigs.get("developer");
  if (!worker) {
    worker = await deps.workers.create({
      role: "developer",
      projectId,
      runId,
      backend: deps.agentBackend ?? config.backend,
    });
    attempt.use(worker);
    await cloneIntoWorkspace(deps.workers, worker.id, repo.cloneUrl, repo.branch);
  } else {
    attempt.use(worker);
  }
  await deps.store.workers.setReport(worker.id, null);
  await deps.store.runs.setIteration(runId, turn);
  const result = await deps.workers.send(
    worker.id,
    developerPrompt({
      attempt: turn,
      maxAttempts: deps.maxIterations,
      branch: repo.branch,
      acceptanceDir,
      lastTest: state.lastTest,
      answer: state.acceptanceAnswer,
      answers: state.input.answers,
    }),
    // The agent's own limit, so a caller across the bus waits as long as the turn may take.
    { timeoutMs: config.timeoutMs },
  );
  return afterTurn(deps, state, worker.id, result);
}

type TurnEnd = Pick<AgentResult, "ok" | "report" | "error" | "stopReason">;

/** Where a developer turn leads: the Architect (a question about an acceptance test), the Tester, or the end. */
async function afterTurn(
  deps: EngineeringDeps,
  state: EngineeringStateValue,
  workerId: string,
  result: TurnEnd,
): Promise<EngineeringUpdate> {
  const attempt = state.iteration + 1;
  const report = result.report;
  let stop: Outcome | null;
  if (result.ok && report?.status === "blocked" && report.acceptanceTest) {
    if (state.acceptanceRevisions < ACCEPTANCE_REVISIONS_PER_RUN) {
      return {
        developerWorkerId: workerId,
        iteration: state.iteration,
        lastReport: report,
        acceptanceAnswer: null,
      };
    }
    stop = {
      status: "blocked",
      code: "acceptance_questions_exhausted",
      message: `the developer still questions the acceptance tests after ${state.acceptanceRevisions} answers: ${report.question}`,
      question: report.question,
      commit: null,
    };
  } else {
    stop = outcomeOfTurn("developer", result);
  }
  if (stop) {
    await deps.workers.terminate(workerId, `developer ${stop.status}`).catch(() => undefined);
    return {
      developerWorkerId: null,
      iteration: attempt,
      lastReport: report,
      outcome: stop,
      acceptanceAnswer: null,
    };
  }
  return { developerWorkerId: workerId, iteration: attempt, lastReport: report, acceptanceAnswer: null };
}

/** True when the developer's last report asks the Architect about an acceptance test. */
export function asksAboutAcceptance(state: EngineeringStateValue): boolean {
  const report = state.lastReport;
  return !state.outcome && report?.status === "blocked" && Boolean(report.acceptanceTest);
}

async function liveWorker(deps: EngineeringDeps, id: string): Promise<Worker | null> {
  try {
    const worker = await deps.store.workers.get(id);
    return LIVE.includes(worker.state) ? worker : null;
  } catch {
    return null;
  }
}

/** The paused developer worker of this run, if a stopped turn left one. */
async function pausedDeveloperOf(
  deps: EngineeringDeps,
  runId: string,
  projectId: string,
): Promise<string | null> {
  const paused = await deps.store.workers.list({ projectId, state: "paused", limit: 100, offset: 0 });
  return paused.items.find((w) => w.runId === runId && w.role === "developer")?.id ?? null;
}
