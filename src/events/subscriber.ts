import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Bus, Subscription } from "../bus/index.js";
import { RunEvent, type RunEventType } from "../contracts/index.js";
import type { Logger } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { RUN_EVENTS_STREAM } from "./run-journal.js";

/** How long a missing seq holds the cursor before it counts as a number the sequence skipped. */
export const GAP_HOLD_MS = 5_000;
/** How often the store is read again without being woken (a lost publish, a failed handler). */
const SWEEP_EVERY_MS = 2_000;
/** Events read from the store at once. */
const PAGE_SIZE = 200;

/** One durable reaction to run events: its name keys its cursor and its bus consumer group. */
export interface RunEventSubscriberOptions {
  name: string;
  /** Only these types reach the handler (all when absent); others just move the cursor. */
  types?: readonly RunEventType[];
  /** Must be idempotent: an event may be handled more than once (at-least-once delivery). */
  handle: (event: RunEvent) => Promise<void>;
  store: Store;
  bus: Bus;
  logger: Logger;
  gapHoldMs?: number;
  sweepEveryMs?: number;
  /** Retry policy of live deliveries (bus backoff); defaults suit a handler that calls the store. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * A durable subscriber to run events with at-least-once delivery. It replays from the store after
 * its cursor, handles live events from the bus, and reads the store again when woken or on a timer,
 * so an event whose publish was lost is still handled. The cursor moves only over a contiguous
 * prefix of handled events; a missing seq (an insert not yet committed, or rolled back) holds it
 * for `gapHoldMs` before it is taken as skipped. A handler that throws holds the cursor before its
 * event, which is retried until handled, but not the events after it: they are handled meanwhile.
 */
export class RunEventSubscriber {
  private readonly gapHoldMs: number;
  private readonly sweepEveryMs: number;
  private cursor = 0;
  /** Seqs above the cursor already handled (held behind a gap). */
  private readonly handled = new Set<number>();
  private readonly inFlight = new Map<number, Promise<void>>();
  /** Seqs whose handler failure was logged at warn already. */
  private readonly reported = new Set<number>();
  /** First time each missing seq was seen, by seq. */
  private readonly gapSeenAt = new Map<number, number>();
  private sweeping: Promise<void> | null = null;
  private sweepAgain = false;
  private timer: NodeJS.Timeout | null = null;
  private subscription: Subscription | null = null;
  private isStopped = true;

  constructor(private readonly opts: RunEventSubscriberOptions) {
    this.gapHoldMs = opts.gapHoldMs ?? GAP_HOLD_MS;
    this.sweepEveryMs = opts.sweepEveryMs ?? SWEEP_EVERY_MS;
  }

  get name(): string {
    return this.opts.name;
  }

  /** Loads the cursor, replays what the store holds after it, then follows the bus. */
  async start(): Promise<void> {
    if (!this.isStopped) return;
    this.isStopped = false;
    this.cursor = await this.opts.store.eventCursors.get(this.opts.name);
    await this.sweep();
    const consumer = `${this.opts.name}-${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
    this.subscription = this.opts.bus.consume(
      RUN_EVENTS_STREAM,
      {
        group: this.opts.name,
        consumer,
        retryBaseMs: this.opts.retryBaseMs ?? 200,
        retryMaxMs: this.opts.retryMaxMs ?? 10_000,
      },
      async (delivery) => {
        const parsed = RunEvent.safeParse(delivery.envelope.payload);
        if (!parsed.success) {
          // The store is the truth: a malformed message is dropped and the sweep finds the event.
          this.opts.logger.warn({ subscriber: this.opts.name }, "run event message does not parse; ignored");
          this.wake();
          return;
        }
        await this.handleOnce(parsed.data);
        this.wake();
      },
    );
    this.schedule();
  }

  /** Stops following the bus and waits for in-flight handling, up to `deadlineMs`. */
  async stop(deadlineMs = 10_000): Promise<void> {
    if (this.isStopped) return;
    this.isStopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const started = Date.now();
    await this.subscription?.stop(deadlineMs);
    this.subscription = null;
    const left = Math.max(0, deadlineMs - (Date.now() - started));
    const pending = [this.sweeping, ...this.inFlight.values()].filter((p) => p !== null);
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(pending),
      new Promise<void>((resolve) => {
        timeout = setTimeout(resolve, left);
      }),
    ]);
    clearTimeout(timeout);
  }

  /** Reads the store after the cursor soon (a live event arrived, or someone knows of new ones). */
  wake(): void {
    if (this.isStopped) return;
    this.sweep().catch((err: unknown) => {
      this.opts.logger.warn({ err, subscriber: this.opts.name }, "run event sweep failed; retrying later");
    });
  }

  /** The seq up to which every event has been handled (what is stored as the cursor). */
  get position(): number {
    return this.cursor;
  }

  private schedule(): void {
    if (this.isStopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wake();
      this.schedule();
    }, this.sweepEveryMs);
    this.timer.unref();
  }

  private matches(event: RunEvent): boolean {
    return !this.opts.types || this.opts.types.includes(event.type);
  }

  /** Runs the handler once per seq at a time; a seq handled already (or at/below the cursor) is skipped. */
  private handleOnce(event: RunEvent): Promise<void> {
    if (event.seq <= this.cursor || this.handled.has(event.seq)) return Promise.resolve();
    if (!this.matches(event)) {
      this.handled.add(event.seq);
      return Promise.resolve();
    }
    const running = this.inFlight.get(event.seq);
    if (running) return running;
    const work = this.opts
      .handle(event)
      .then(() => {
        this.handled.add(event.seq);
      })
      .finally(() => {
        this.inFlight.delete(event.seq);
      });
    this.inFlight.set(event.seq, work);
    return work;
  }

  /** One sweep at a time; a wake during a sweep runs one more after it. */
  private sweep(): Promise<void> {
    if (this.sweeping) {
      this.sweepAgain = true;
      return this.sweeping;
    }
    this.sweeping = (async () => {
      try {
        do {
          this.sweepAgain = false;
          await this.sweepOnce();
        } while (this.sweepAgain && !this.isStopped);
      } finally {
        this.sweeping = null;
      }
    })();
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    let next = this.cursor;
    let isHeld = false;
    let from = this.cursor;
    const failed: { seq: number; err: unknown }[] = [];
    try {
      for (;;) {
        const page = await this.opts.store.runEvents.listAfter(from, PAGE_SIZE);
        for (const event of page) {
          if (!isHeld && event.seq > next + 1 && !this.gapExpired(next + 1, event.seq)) isHeld = true;
          // A failure holds the cursor here (the event is retried) but not the events after it.
          const outcome = await this.handleOnce(event).then(
            () => ({ ok: true as const }),
            (err: unknown) => ({ ok: false as const, err }),
          );
          if (!outcome.ok) {
            isHeld = true;
            failed.push({ seq: event.seq, err: outcome.err });
          }
          if (!isHeld) next = event.seq;
        }
        if (page.length < PAGE_SIZE || this.isStopped) break;
        from = page[page.length - 1]?.seq ?? from;
      }
    } finally {
      await this.moveTo(next);
    }
    // Said once per event (a busy project can fail its event for minutes); retries log at debug.
    for (const { seq, err } of failed) {
      const isNew = !this.reported.has(seq);
      this.reported.add(seq);
      this.opts.logger[isNew ? "warn" : "debug"](
        { err, subscriber: this.opts.name, seq },
        "run event handler failed; retrying at the next sweep",
      );
    }
  }

  /** Whether every seq in [first, beyond) has been missing for the hold time. */
  private gapExpired(first: number, beyond: number): boolean {
    const now = Date.now();
    const seenAt = this.gapSeenAt.get(first) ?? now;
    if (!this.gapSeenAt.has(first)) this.gapSeenAt.set(first, now);
    if (now - seenAt < this.gapHoldMs) return false;
    this.opts.logger.debug(
      { subscriber: this.opts.name, from: first, to: beyond - 1 },
      "run event seqs skipped",
    );
    return true;
  }

  private async moveTo(next: number): Promise<void> {
    if (next <= this.cursor) return;
    await this.opts.store.eventCursors.advance(this.opts.name, next);
    this.cursor = next;
    for (const seq of this.handled) if (seq <= next) this.handled.delete(seq);
    for (const seq of this.gapSeenAt.keys()) if (seq <= next) this.gapSeenAt.delete(seq);
    for (const seq of this.reported) if (seq <= next) this.reported.delete(seq);
  }
}
