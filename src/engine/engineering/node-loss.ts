import { type AgentBackend, AppError, type Worker } from "../../contracts/index.js";
import { nodeOf, WorkerNodeLostError } from "../../workers/index.js";
import { type EngineeringDeps, terminateWorkersOf } from "./deps.js";

/**
 * Times a stage is redone on a fresh worker after the node holding its worker was lost. A node is
 * lost to its host or an operator (a restart, a rolling deploy, a crash), not to the stage, whose
 * commands run in sandboxes apart from it: a few losses in a row during a restart storm are no
 * reason to fail a person's run. The bound only stops a run that can never finish.
 */
export const NODE_LOSS_RETRIES = 5;

/** A workers node lost under a stage: which node, which worker, and what happened, in words. */
export interface NodeLoss {
  node: string;
  workerId: string | null;
  message: string;
}

/** One try of a stage's work on a worker. */
export interface StageTry {
  /** 0 for the first try, then 1, 2, ... for each retry after a lost node. */
  retry: number;
  /** Workers lost in earlier tries: never to be used again, whatever their records say. */
  lostWorkers: ReadonlySet<string>;
  /** Names the worker this try runs on, so an "ended" answer from its restarted node counts as a loss. */
  use(worker: Worker): void;
}

/**
 * Runs a stage's work on a worker and, when the workers node holding that worker is lost (it
 * stopped beating, or restarted and reports the worker ended), records an
 * `engineering.stage_retried` event and redoes the work from the start on a fresh worker, up to
 * `NODE_LOSS_RETRIES` times. The work must be safe to redo: each try creates (or re-takes) its
 * worker and repeats only what the lost one did. Exhausted, or with no workers node left to retry
 * on, it throws `worker_node_lost` naming the node, which fails the run.
 */
export async function retryOnNodeLoss<T>(
  deps: Pick<EngineeringDeps, "store" | "journal" | "logger">,
  where: { runId: string; stage: string },
  work: (attempt: StageTry) => Promise<T>,
): Promise<T> {
  const lostWorkers = new Set<string>();
  let lastLoss: NodeLoss | null = null;
  for (let retry = 0; ; retry++) {
    let current: Worker | null = null;
    try {
      return await work({
        retry,
        lostWorkers,
        use: (worker) => {
          current = worker;
        },
      });
    } catch (error) {
      const loss = await nodeLossOf(deps, error, current);
      if (!loss) {
        if (lastLoss && error instanceof AppError && error.code === "no_workers_node") {
          throw new AppError(
            "unavailable",
            "worker_node_lost",
            `${lastLoss.message}; no workers node is alive to retry the ${where.stage} stage on`,
            { cause: error },
          );
        }
        throw error;
      }
      if (loss.workerId) lostWorkers.add(loss.workerId);
      if (retry >= NODE_LOSS_RETRIES) {
        throw new AppError(
          "unavailable",
          "worker_node_lost",
          `${loss.message}; the ${where.stage} stage was tried ${retry + 1} times`,
          { cause: error },
        );
      }
      lastLoss = loss;
      deps.logger.warn(
        {
          runId: where.runId,
          stage: where.stage,
          node: loss.node,
          workerId: loss.workerId,
          retry: retry + 1,
        },
        `${loss.message}; retrying the ${where.stage} stage on a fresh worker`,
      );
      await deps.journal.append({
        runId: where.runId,
        type: "engineering.stage_retried",
        data: {
          stage: where.stage,
          node: loss.node,
          workerId: loss.workerId,
          reason: loss.message,
          retry: retry + 1,
          maxRetries: NODE_LOSS_RETRIES,
        },
      });
    }
  }
}

/** What a node answers about a worker its restart ended: its record ended, or its sandbox missing. */
const WORKER_LOST_CODES: ReadonlySet<string> = new Set(["worker_ended", "worker_gone", "sandbox_not_found"]);

/**
 * The node loss behind `error`, or null when it is an ordinary failure. A call the client gave up
 * on (`worker_node_lost`) is one; so is "worker ended", "worker gone" or "sandbox not found" from the node holding the
 * stage's worker when that node restarted after the worker was made (its recovery ended the worker,
 * and what it was doing with it) or is no longer alive.
 */
export async function nodeLossOf(
  deps: Pick<EngineeringDeps, "store">,
  error: unknown,
  worker: Worker | null,
): Promise<NodeLoss | null> {
  if (error instanceof WorkerNodeLostError) {
    return { node: error.node, workerId: worker?.id ?? null, message: error.message };
  }
  if (!worker || !(error instanceof AppError)) return null;
  if (!WORKER_LOST_CODES.has(error.code)) return null;
  const node = nodeOf(worker);
  const instance = await deps.store.instances.get(node);
  const isRestarted = instance !== null && Date.parse(instance.startedAt) > Date.parse(worker.createdAt);
  if (instance?.alive && !isRestarted) return null;
  const what = isRestarted ? "restarted" : "stopped";
  return {
    node,
    workerId: worker.id,
    message: `workers node ${node} ${what} under worker ${worker.id}: ${error.message}`,
  };
}

/** Ends a stage's worker; a failure is logged (its node's sweeper collects what is left), not thrown. */
export async function endWorker(
  deps: Pick<EngineeringDeps, "workers" | "logger">,
  workerId: string,
  reason: string,
): Promise<void> {
  try {
    await deps.workers.terminate(workerId, reason);
  } catch (error) {
    deps.logger.warn({ err: error, workerId }, `could not end worker ${workerId} (${reason})`);
  }
}

/**
 * A stage's work on a worker of its own, made for it (after ending what an earlier attempt of the
 * stage left) and ended after it, redone on a fresh one when its node is lost (`retryOnNodeLoss`).
 */
export function onFreshWorker<T>(
  deps: EngineeringDeps,
  spec: {
    runId: string;
    projectId: string;
    stage: string;
    role: "architect" | "tester";
    backend: AgentBackend | "none";
  },
  work: (worker: Worker) => Promise<T>,
): Promise<T> {
  const { runId, projectId, role } = spec;
  return retryOnNodeLoss(deps, { runId, stage: spec.stage }, async (attempt) => {
    await terminateWorkersOf(deps, runId, projectId, role, { reason: "replaced by a resumed stage" });
    const worker = await deps.workers.create({ role, projectId, runId, backend: spec.backend });
    attempt.use(worker);
    try {
      return await work(worker);
    } finally {
      await endWorker(deps, worker.id, `${spec.stage} stage done`);
    }
  });
}
