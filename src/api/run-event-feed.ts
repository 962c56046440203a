import type { Bus, TailSubscription } from "../bus/index.js";
import { RunEvent } from "../contracts/index.js";
import { RUN_EVENTS_STREAM } from "../events/index.js";

/** One follower of a run's live events; `ready` resolves once every later event will reach it. */
export interface RunEventListener {
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The live run events of one API process: a single tail on the run-events stream (one Redis
 * connection however many clients follow runs), fanned out in memory to the followers of each
 * run. The tail starts with the first follower and stops when the last one leaves.
 */
export class RunEventFeed {
  readonly #bus: Bus;
  readonly #listeners = new Map<string, Set<(event: RunEvent) => void>>();
  #tail: TailSubscription | null = null;
  #count = 0;

  constructor(bus: Bus) {
    this.#bus = bus;
  }

  /** Calls `listener` with each event of `runId` published from `ready` on, in arrival order. */
  follow(runId: string, listener: (event: RunEvent) => void): RunEventListener {
    this.#tail ??= this.#bus.tail(RUN_EVENTS_STREAM, (envelope) => this.#dispatch(envelope.payload));
    const tail = this.#tail;
    let listeners = this.#listeners.get(runId);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(runId, listeners);
    }
    listeners.add(listener);
    this.#count++;
    let isStopped = false;
    return {
      ready: tail.ready,
      stop: async () => {
        if (isStopped) return;
        isStopped = true;
        listeners.delete(listener);
        if (listeners.size === 0 && this.#listeners.get(runId) === listeners) this.#listeners.delete(runId);
        this.#count--;
        if (this.#count === 0 && this.#tail === tail) {
          this.#tail = null;
          await tail.stop();
        }
      },
    };
  }

  /** Stops the tail (server shutdown); followers get nothing more. */
  async close(): Promise<void> {
    const tail = this.#tail;
    this.#tail = null;
    this.#listeners.clear();
    this.#count = 0;
    await tail?.stop();
  }

  #dispatch(payload: unknown): void {
    const runId = (payload as { runId?: unknown } | null)?.runId;
    if (typeof runId !== "string") return;
    const listeners = this.#listeners.get(runId);
    if (!listeners || listeners.size === 0) return;
    const parsed = RunEvent.safeParse(payload);
    if (!parsed.success) return;
    for (const listener of [...listeners]) listener(parsed.data);
  }
}
