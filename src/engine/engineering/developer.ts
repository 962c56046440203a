import type { Worker } from "../../contracts/index.js";
import { outcomeOfTurn } from "./architect.js";
import { type EngineeringDeps, terminateWorkersOf } from "./deps.js";
import { developerPrompt } from "./prompts.js";
import { cloneIntoWorkspace } from "./sandbox-git.js";
import type { EngineeringStateValue, EngineeringUpdate } from "./state.js";

const LIVE: Worker["state"][] = ["starting", "running", "paused"];

/**
 * Developer (worker): implements TASK.md, runs the tests, commits, pushes and reports the commit.
 * One worker (and so one agent session) serves every attempt of the run; after a red test it gets
 * the tester's output. Its report is a claim only: the Tester decides.
 *
 * Replay safety: the attempt number is written to the run and the worker's old report cleared
 * before the turn starts, so a stage replayed after a crash that finds a paused worker with a
 * report for this attempt takes that report instead of running (and committing) again.
 */
export async function developer(
  deps: EngineeringDeps,
  state: EngineeringStateValue,
): Promise<EngineeringUpdate> {
  const { runId, projectId } = state;
  const repo = state.repo;
  if (!repo) throw new Error("developer stage without a repository");
  const attempt = state.iteration + 1;
  await deps.journal.stage(runId, "developer", { iteration: attempt });

  let worker = state.developerWorkerId ? await liveWorker(deps, state.developerWorkerId) : null;
  const run = await deps.store.runs.get(runId);
  if (worker && run.iteration === attempt && worker.state === "paused" && worker.report) {
    await deps.journal.log(
      runId,
      `attempt ${attempt} had already reported before a restart; using that report`,
    );
    return { developerWorkerId: worker.id, iteration: attempt, lastReport: worker.report };
  }
  await terminateWorkersOf(deps, runId, projectId, "developer", worker?.id ?? null);
  if (!worker) {
    const config = await deps.store.agentConfigs.get("developer");
    worker = await deps.workers.create({
      role: "developer",
      projectId,
      runId,
      backend: deps.agentBackend ?? config.backend,
    });
    await cloneIntoWorkspace(deps.workers, worker.id, repo.cloneUrl, repo.branch);
  }
  await deps.store.workers.setReport(worker.id, null);
  await deps.store.runs.setIteration(runId, attempt);
  const result = await deps.workers.send(
    worker.id,
    developerPrompt({
      attempt,
      maxAttempts: deps.maxIterations,
      branch: repo.branch,
      lastTest: state.lastTest,
    }),
  );
  const stop = outcomeOfTurn("developer", result);
  if (stop) {
    await deps.workers.terminate(worker.id, `developer ${stop.status}`).catch(() => undefined);
    return { developerWorkerId: null, iteration: attempt, lastReport: result.report, outcome: stop };
  }
  return { developerWorkerId: worker.id, iteration: attempt, lastReport: result.report };
}

async function liveWorker(deps: EngineeringDeps, id: string): Promise<Worker | null> {
  try {
    const worker = await deps.store.workers.get(id);
    return LIVE.includes(worker.state) ? worker : null;
  } catch {
    return null;
  }
}
