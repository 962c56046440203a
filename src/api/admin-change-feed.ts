import type { Bus, TailSubscription } from "../bus/index.js";
import type { ChangeMarks, LiveTopic } from "../contracts/index.js";
import { RUN_EVENTS_STREAM } from "../events/index.js";
import type { Logger } from "../observability/index.js";
import type { Store } from "../store/index.js";

/** How often the store's change marks are read while someone follows the admin stream. */
export const CHANGE_POLL_MS = 2_000;

/** Told which topics changed; the admin stream writes them out. */
export type ChangeListener = (topics: LiveTopic[]) => void;

/**
 * What changed in the store, for the admin pages of one API process. A change to runs is pushed at
 * once from the run-events stream on the bus; every topic (runs too, for what the bus never carried)
 * is found by reading the store's change marks every `CHANGE_POLL_MS`, one read however many pages
 * follow, and only while one does. This finds changes made by any process, with no writer having to
 * announce them.
 */
export class AdminChangeFeed {
  readonly #listeners = new Set<ChangeListener>();
  #marks: ChangeMarks | null = null;
  #timer: NodeJS.Timeout | undefined;
  #tail: TailSubscription | null = null;
  #reading: Promise<void> | null = null;
  #ready: Promise<void> = Promise.resolve();

  constructor(private readonly deps: { store: Store; bus: Bus; logger: Logger; pollMs?: number }) {}

  /**
   * Calls `listener` with each change from `ready` on (the first read of the marks and the bus tail
   * are done then); `stop` ends it.
   */
  follow(listener: ChangeListener): { ready: Promise<void>; stop(): void } {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#start();
    const stop = () => {
      if (!this.#listeners.delete(listener)) return;
      if (this.#listeners.size === 0) this.#stop();
    };
    return { ready: this.#ready, stop };
  }

  /** Stops reading (server shutdown); followers get nothing more. */
  close(): void {
    this.#listeners.clear();
    this.#stop();
  }

  #emit(topics: LiveTopic[]): void {
    if (topics.length === 0) return;
    for (const listener of this.#listeners) listener(topics);
  }

  #start(): void {
    const tail = this.deps.bus.tail(RUN_EVENTS_STREAM, () => this.#emit(["runs"]));
    this.#tail = tail;
    this.#timer = setInterval(() => void this.#read(), this.deps.pollMs ?? CHANGE_POLL_MS);
    this.#ready = Promise.all([tail.ready, this.#read()]).then(() => {});
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#marks = null;
    const tail = this.#tail;
    this.#tail = null;
    tail?.stop().catch((error: unknown) => {
      this.deps.logger.warn({ err: error }, "admin change feed: run-event tail did not stop cleanly");
    });
  }

  /** Reads the marks and announces the topics that differ from the last read (none the first time). */
  #read(): Promise<void> {
    this.#reading ??= this.#compare().finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }

  async #compare(): Promise<void> {
    try {
      const marks = await this.deps.store.stats.changeMarks();
      const before = this.#marks;
      if (!this.#timer) return;
      this.#marks = marks;
      if (before)
        this.#emit((Object.keys(marks) as LiveTopic[]).filter((topic) => marks[topic] !== before[topic]));
    } catch (error) {
      // The next read tries again; the pages keep what they show until then.
      this.deps.logger.warn({ err: error }, "admin change feed: could not read the change marks");
    }
  }
}
