import type { Bus } from "../bus/index.js";
import type { Run, RunEvent, RunEventCreate, RunStatus } from "../contracts/index.js";
import type { Logger } from "../observability/index.js";
import type { Store } from "../store/index.js";

/** The bus stream every stored run event is published on, for live subscribers (SSE, metrics, ...). */
export const RUN_EVENTS_STREAM = "run-events";

/**
 * How many run events the bus keeps: live readers need only fresh ones, and a durable subscriber
 * that falls further behind catches up from the store, which keeps them all. Events carry test
 * output, so the bus's general length would hold far too much in the embedded mode's memory.
 */
export const RUN_EVENTS_BUS_MAX_LEN = 10_000;

type StageData = Omit<Extract<RunEventCreate, { type: "run.stage_changed" }>["data"], "stage">;
type LogData = Omit<Extract<RunEventCreate, { type: "run.log" }>["data"], "message">;

/** What a journal writes with: the store (the truth), the bus (live fan-out) and a logger. */
export interface RunJournalDeps {
  store: Store;
  bus: Bus;
  logger: Logger;
}

/**
 * The one writer of run events. Each event is stored first, then published on `RUN_EVENTS_STREAM`
 * as `{ type, payload: <stored event> }`; a lost publish is only logged, since durable subscribers
 * catch up from the store. Status and stage moves go through here too, so the run row and its
 * event log never disagree (the move is made by compare-and-set, then the event is appended).
 */
export class RunJournal {
  constructor(private readonly deps: RunJournalDeps) {}

  async stage(runId: string, stage: string, data: StageData = {}): Promise<Run> {
    const run = await this.deps.store.runs.setStage(runId, stage);
    await this.append({ runId, type: "run.stage_changed", data: { stage, ...data } });
    return run;
  }

  /** Moves the run; `result` and (for failed/blocked) `error` are required for terminal moves. */
  async move(
    runId: string,
    to: RunStatus,
    change: { result?: Record<string, unknown>; error?: { code: string; message: string } | null } = {},
  ): Promise<Run> {
    const before = await this.deps.store.runs.get(runId);
    const run = await this.deps.store.runs.transition(runId, to, change);
    await this.append({
      runId,
      type: "run.status_changed",
      data: { from: before.status, to, ...(change.error ? { error: change.error } : {}) },
    });
    return run;
  }

  async log(runId: string, message: string, data: LogData = {}): Promise<void> {
    await this.append({ runId, type: "run.log", data: { message, ...data } });
  }

  /** Stores the event (validated against its type's payload), then publishes the stored form. */
  async append(input: RunEventCreate): Promise<RunEvent> {
    const event = await this.deps.store.runEvents.append(input);
    try {
      await this.deps.bus.publish(RUN_EVENTS_STREAM, { type: event.type, payload: event });
    } catch (err) {
      this.deps.logger.warn(
        { err, runId: event.runId, seq: event.seq, type: event.type },
        "run event stored but not published; subscribers will read it from the store",
      );
    }
    return event;
  }
}
