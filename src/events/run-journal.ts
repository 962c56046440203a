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

  /**
   * Moves the run; `result` and (for failed/blocked) `error` are required for terminal moves. The
   * status event, then the `also` events (a deploy's outcome), are stored in the same transaction
   * as the move: a process killed right after a run ended never leaves it ended without them.
   */
  async move(
    runId: string,
    to: RunStatus,
    change: { result?: Record<string, unknown>; error?: { code: string; message: string } | null } = {},
    also: RunEventCreate[] = [],
  ): Promise<Run> {
    const { run, events } = await this.deps.store.runs.transitionWithEvents(runId, to, change, (from) => [
      {
        runId,
        type: "run.status_changed",
        data: { from, to, ...(change.error ? { error: change.error } : {}) },
      },
      ...also,
    ]);
    for (const event of events) await this.publish(event);
    return run;
  }

  async log(runId: string, message: string, data: LogData = {}): Promise<void> {
    await this.append({ runId, type: "run.log", data: { message, ...data } });
  }

  /** Stores the event (validated against its type's payload), then publishes the stored form. */
  async append(input: RunEventCreate): Promise<RunEvent> {
    const event = await this.deps.store.runEvents.append(input);
    await this.publish(event);
    return event;
  }

  /** Publishes a stored event; a lost publish is only logged (subscribers read the store). */
  private async publish(event: RunEvent): Promise<void> {
    try {
      await this.deps.bus.publish(RUN_EVENTS_STREAM, { type: event.type, payload: event });
    } catch (err) {
      this.deps.logger.warn(
        { err, runId: event.runId, seq: event.seq, type: event.type },
        "run event stored but not published; subscribers will read it from the store",
      );
    }
  }
}
