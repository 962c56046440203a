import type { Bus, TailSubscription } from "../bus/index.js";
import {
  LogBatch,
  type LogEntry,
  type LoggedEntry,
  type LogLevelName,
  levelNumber,
} from "../contracts/index.js";
import { LOG_STREAM } from "./log-publisher.js";

/** Which entries a reader wants: one component, a minimum level, one project, one run. */
export interface LogFilter {
  component?: string | undefined;
  level?: LogLevelName | undefined;
  projectId?: string | undefined;
  runId?: string | undefined;
}

/** True when the entry passes every filter given. */
export function matchesLog(entry: LogEntry, filter: LogFilter): boolean {
  if (filter.component !== undefined && entry.component !== filter.component) return false;
  if (filter.level !== undefined && levelNumber(entry.level) < levelNumber(filter.level)) return false;
  if (filter.projectId !== undefined && entry.projectId !== filter.projectId) return false;
  if (filter.runId !== undefined && entry.runId !== filter.runId) return false;
  return true;
}

/** The entries the API keeps by default. */
export const LOG_RING_CAPACITY = 5_000;
/** Component names remembered for the Logs page's filter. */
const MAX_COMPONENTS = 200;

/**
 * The latest log entries of every process, in arrival order, at most `capacity` (the oldest go
 * first). Each entry is numbered as it arrives; listeners hear every new one.
 */
export class LogRing {
  readonly capacity: number;
  readonly #slots: (LoggedEntry | undefined)[];
  /** The seq of the newest entry; entry `seq` lives in slot `(seq - 1) % capacity`. */
  #lastSeq = 0;
  readonly #components = new Set<string>();
  readonly #listeners = new Set<(entry: LoggedEntry) => void>();

  constructor(capacity = LOG_RING_CAPACITY) {
    this.capacity = capacity;
    this.#slots = new Array(capacity);
  }

  push(entry: LogEntry): LoggedEntry {
    const logged = { ...entry, seq: ++this.#lastSeq };
    this.#slots[(logged.seq - 1) % this.capacity] = logged;
    if (entry.component !== null && this.#components.size < MAX_COMPONENTS)
      this.#components.add(entry.component);
    for (const listener of this.#listeners) {
      try {
        listener(logged);
      } catch {
        // One reader's failure is its own; the others still hear the entry.
      }
    }
    return logged;
  }

  /** The newest `limit` entries matching `filter` (after `afterSeq`, when given), oldest first. */
  recent(filter: LogFilter, limit: number, afterSeq = 0): LoggedEntry[] {
    const out: LoggedEntry[] = [];
    const oldest = Math.max(this.#lastSeq - this.capacity + 1, afterSeq + 1, 1);
    for (let seq = this.#lastSeq; seq >= oldest && out.length < limit; seq--) {
      const entry = this.#slots[(seq - 1) % this.capacity];
      if (entry && matchesLog(entry, filter)) out.push(entry);
    }
    return out.reverse();
  }

  /** Component names seen so far, sorted. */
  components(): string[] {
    return [...this.#components].sort();
  }

  /** Calls `listener` with each entry pushed from now on; the answer stops it. */
  subscribe(listener: (entry: LoggedEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * Feeds `ring` from the log stream: every batch any process publishes after the tail is ready. A
 * message that is not a batch of entries is skipped (and not logged: a log line about the log
 * stream would only come back through it).
 */
export function followLogs(deps: { bus: Pick<Bus, "tail">; ring: LogRing }): TailSubscription {
  return deps.bus.tail(LOG_STREAM, (envelope) => {
    const batch = LogBatch.safeParse(envelope.payload);
    if (!batch.success) return;
    for (const entry of batch.data.entries) deps.ring.push(entry);
  });
}
