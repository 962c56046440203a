import { AppError, type RunOutcomeCode } from "../contracts/index.js";
import type { RunJournal } from "../events/index.js";

/** A compiled graph as the runners use it (the part of LangGraph's API they need). */
export interface RunnableGraph<S> {
  getState(config: GraphConfig): Promise<{
    createdAt?: string;
    next: readonly string[];
    tasks: readonly { name: string }[];
    values: unknown;
  }>;
  invoke(input: Partial<S> | null, config: GraphConfig): Promise<S>;
}

export interface GraphConfig {
  configurable: { thread_id: string };
  signal: AbortSignal;
  recursionLimit: number;
}

/**
 * Runs a run's graph to its end: from the start with `initial()` when it has no checkpoint, from
 * its last checkpoint when it has one (a previous engine died), or just reads the final state when
 * it had already ended. Returns the final state, or the error a stage threw (as a code and
 * message); `null` when the engine is stopping or the database is unavailable, and the run must be
 * left to resume from its checkpoint.
 */
export async function runGraph<S>(
  graph: RunnableGraph<S>,
  runId: string,
  initial: () => Promise<Partial<S>>,
  opts: { signal: AbortSignal; journal: RunJournal },
): Promise<{ final: S | null; error: { code: RunOutcomeCode; message: string } | null } | null> {
  const config: GraphConfig = {
    configurable: { thread_id: runId },
    signal: opts.signal,
    recursionLimit: 100,
  };
  try {
    const snapshot = await graph.getState(config);
    if (!snapshot.createdAt) return { final: await graph.invoke(await initial(), config), error: null };
    // `tasks` are the steps the last checkpoint left to run. `next` leaves out those whose writes
    // were saved before the process died, before the checkpoint after them was: their graph has
    // not ended either, and resuming applies those writes instead of running the step again.
    if (snapshot.tasks.length > 0) {
      const steps = snapshot.next.length > 0 ? snapshot.next : snapshot.tasks.map((t) => t.name);
      await opts.journal.log(runId, `resuming from checkpoint before ${steps.join(", ")}`);
      return { final: await graph.invoke(null, config), error: null };
    }
    return { final: snapshot.values as S, error: null };
  } catch (cause) {
    if (opts.signal.aborted) return null;
    // The database went away under a stage (a restart, a failover): the run is not at fault. It is
    // left, like a run whose engine stops, to resume from its checkpoint once its lease is taken again.
    if (cause instanceof AppError && cause.code === "database_unavailable") return null;
    const message = cause instanceof Error ? cause.message : String(cause);
    return {
      final: null,
      error: {
        code: cause instanceof AppError ? cause.code : "stage_error",
        message: `a stage failed: ${message}`,
      },
    };
  }
}
