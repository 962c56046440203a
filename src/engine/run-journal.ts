import type { Run, RunEventCreate, RunStatus } from "../contracts/index.js";
import type { Store } from "../store/index.js";

/**
 * Every change of a run's status or stage goes through here, so the run row and its event log
 * never disagree: the move is made (compare-and-set in the store), then the event is appended.
 */
export class RunJournal {
  constructor(private readonly store: Store) {}

  async stage(runId: string, stage: string, data: Record<string, unknown> = {}): Promise<Run> {
    const run = await this.store.runs.setStage(runId, stage);
    await this.event({ runId, type: "run.stage_changed", data: { stage, ...data } });
    return run;
  }

  /** Moves the run; `result` and (for failed/blocked) `error` are required for terminal moves. */
  async move(
    runId: string,
    to: RunStatus,
    change: { result?: Record<string, unknown>; error?: { code: string; message: string } | null } = {},
  ): Promise<Run> {
    const before = await this.store.runs.get(runId);
    const run = await this.store.runs.transition(runId, to, change);
    await this.event({
      runId,
      type: "run.status_changed",
      data: { from: before.status, to, ...(change.error ? { error: change.error } : {}) },
    });
    return run;
  }

  async log(runId: string, message: string, data: Record<string, unknown> = {}): Promise<void> {
    await this.event({ runId, type: "run.log", data: { message, ...data } });
  }

  event(input: RunEventCreate): Promise<unknown> {
    return this.store.runEvents.append(input);
  }
}
