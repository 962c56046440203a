import type { Bus } from "../bus/index.js";
import {
  Id,
  type LogBatch,
  type LogEntry,
  type LogLevelName,
  levelName,
  levelNumber,
} from "../contracts/index.js";

/** The bus stream every process publishes its log entries on, for the API's Logs page. */
export const LOG_STREAM = "logs";
/**
 * Batches of log entries the bus keeps (Redis: `MAXLEN ~`; at most 100 entries each): live readers
 * need only fresh ones, and the API keeps its own ring of the latest entries.
 */
export const LOG_BUS_MAX_LEN = 500;

/** Fields of a log line that have their own place in an entry (or are the same on every line). */
const OWN_FIELDS = new Set([
  "level",
  "time",
  "msg",
  "component",
  "projectId",
  "runId",
  "workerId",
  "service",
  "pid",
  "hostname",
]);
const MAX_MSG = 4000;
const MAX_DETAIL = 1000;

/** One pino JSON line as a log entry; null for a line that is not one (or below `minLevel`). */
export function entryOfLine(line: string, minLevel: number): LogEntry | null {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return null;
    record = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  const level = typeof record.level === "number" ? record.level : 0;
  if (level < minLevel) return null;
  const text = (value: unknown, max: number) => (typeof value === "string" ? value.slice(0, max) : null);
  const id = (value: unknown) => (Id.safeParse(value).success ? (value as string) : null);
  const time = typeof record.time === "string" && !Number.isNaN(Date.parse(record.time)) ? record.time : null;
  const rest = Object.fromEntries(Object.entries(record).filter(([key]) => !OWN_FIELDS.has(key)));
  const detail = Object.keys(rest).length > 0 ? JSON.stringify(rest) : null;
  return {
    time: new Date(time ?? Date.now()).toISOString(),
    level: levelName(level),
    component: text(record.component, 100),
    msg: text(record.msg, MAX_MSG) ?? "",
    projectId: id(record.projectId),
    runId: id(record.runId),
    workerId: id(record.workerId),
    node: null,
    detail: detail && detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL - 1)}…` : detail,
  };
}

export interface LogPublisherOptions {
  /** Lines below this level stay on stdout only (default `info`). */
  minLevel?: LogLevelName;
  /** Entries held while the bus is absent, slow or down; beyond it the oldest are dropped. */
  maxQueued?: number;
  /** Entries per bus message. */
  batchSize?: number;
  /** How long entries gather before a batch goes out. */
  flushDelayMs?: number;
  /** A publish that has not settled by then counts as failed (a bus waiting to reconnect). */
  publishTimeoutMs?: number;
  /**
   * Components whose lines are never published: the bus's own, so that a bus failure logged by the
   * bus never becomes another publish to the failing bus.
   */
  quietComponents?: readonly string[];
}

/** What the publisher has done, for tests and `/health`-style reports. */
export interface LogPublisherStats {
  queued: number;
  published: number;
  dropped: number;
  failedPublishes: number;
}

/**
 * A logger destination that publishes every line at or above its level, as masked as the logger
 * wrote it, to `LOG_STREAM` in batches. It never blocks the logger and never throws: entries wait
 * in a bounded queue (the oldest dropped when full) until the bus is attached and answers; a failed
 * publish drops its batch and waits (doubling, up to 30 s) before the next. It logs nothing itself,
 * a line logged while it is publishing is not published, and the bus's own lines are never published,
 * so a failing bus can never make it publish again and again.
 */
export class LogPublisher {
  readonly #minLevel: number;
  readonly #maxQueued: number;
  readonly #batchSize: number;
  readonly #flushDelayMs: number;
  readonly #publishTimeoutMs: number;
  readonly #quiet: ReadonlySet<string>;
  readonly #queue: LogEntry[] = [];
  #bus: Pick<Bus, "publish"> | null = null;
  #node: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;
  #publishing = 0;
  #backoffMs = 0;
  #stopping = false;
  #stopped = false;
  readonly #stats = { published: 0, dropped: 0, failedPublishes: 0 };

  constructor(options: LogPublisherOptions = {}) {
    this.#minLevel = levelNumber(options.minLevel ?? "info");
    this.#maxQueued = options.maxQueued ?? 1_000;
    this.#batchSize = options.batchSize ?? 100;
    this.#flushDelayMs = options.flushDelayMs ?? 200;
    this.#publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
    this.#quiet = new Set(options.quietComponents ?? ["bus"]);
  }

  /** The logger's destination calls this with each line (already masked). */
  write(line: string): void {
    if (this.#stopped || this.#publishing > 0) return;
    try {
      const entry = entryOfLine(line, this.#minLevel);
      if (!entry || (entry.component !== null && this.#quiet.has(entry.component))) return;
      this.#queue.push(entry);
      if (this.#queue.length > this.#maxQueued) {
        this.#queue.shift();
        this.#stats.dropped++;
      }
      this.#schedule(this.#flushDelayMs);
    } catch {
      // A log line must never fail the code that logged it.
    }
  }

  /** Starts publishing to `bus`, stamping entries with `node` (this process's instance id). */
  attach(bus: Pick<Bus, "publish">, opts: { node: string | null }): void {
    this.#bus = bus;
    this.#node = opts.node;
    this.#schedule(0);
  }

  stats(): LogPublisherStats {
    return { queued: this.#queue.length, ...this.#stats };
  }

  /** Publishes what is queued (one try, within the publish timeout), then publishes nothing more. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#inFlight;
    if (this.#bus && this.#queue.length > 0 && !this.#stopped) {
      this.#backoffMs = 0;
      await this.#flush();
    }
    this.#stopped = true;
    this.#queue.length = 0;
  }

  #schedule(delayMs: number): void {
    if (this.#timer || this.#inFlight || !this.#bus || this.#stopping) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        void this.#flush();
      },
      Math.max(delayMs, this.#backoffMs),
    );
    this.#timer.unref();
  }

  #flush(): Promise<void> {
    const bus = this.#bus;
    if (!bus || this.#inFlight || this.#queue.length === 0) return this.#inFlight ?? Promise.resolve();
    const entries = this.#queue.splice(0, this.#batchSize).map((entry) => ({ ...entry, node: this.#node }));
    const batch: LogBatch = { entries };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("publish timed out")), this.#publishTimeoutMs);
      timer.unref();
    });
    let publish: Promise<unknown>;
    this.#publishing++;
    try {
      publish = bus.publish(LOG_STREAM, { type: "log.entries", payload: batch });
    } catch (error) {
      publish = Promise.reject(error);
    } finally {
      this.#publishing--;
    }
    // A publish that settles after its timeout changes nothing here.
    publish.catch(() => {});
    this.#inFlight = Promise.race([publish, timeout])
      .then(
        () => {
          this.#stats.published += entries.length;
          this.#backoffMs = 0;
        },
        () => {
          this.#stats.failedPublishes++;
          this.#stats.dropped += entries.length;
          this.#backoffMs = Math.min(Math.max(this.#backoffMs * 2, 1_000), 30_000);
        },
      )
      .finally(() => {
        clearTimeout(timer);
        this.#inFlight = null;
        if (this.#queue.length > 0) this.#schedule(0);
      });
    return this.#inFlight;
  }
}
