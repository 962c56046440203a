import { continueTrace } from "../observability/index.js";
import type { Delivery, Subscription } from "./bus.js";
import {
  type BusLogger,
  type ConsumePolicy,
  DEFAULT_STOP_DEADLINE_MS,
  errorText,
  pause,
  settleWithin,
} from "./policy.js";

/** A message taken by this consumer, with the implementation's handle for acking it. */
export interface Taken<T> {
  readonly delivery: Delivery;
  readonly handle: T;
}

/**
 * What an implementation provides to the shared consumer loop. Both buses share the loop so that
 * concurrency, the ack/fail decision and stop-with-deadline behave identically.
 */
export interface MessageSource<T> {
  /** Claims up to `max` messages due for retry (backoff elapsed) or reclaim (holder idle too long). */
  claimDue(max: number): Promise<Taken<T>[]>;
  /** Takes up to `max` never-delivered messages, waiting up to `waitMs` for one to arrive. */
  readNew(max: number, waitMs: number): Promise<Taken<T>[]>;
  /** The handler resolved: the message is done, whoever holds it now. */
  ack(taken: Taken<T>): Promise<void>;
  /** The handler threw: schedule a retry, or dead-letter after the last allowed delivery. */
  fail(taken: Taken<T>, error: string): Promise<void>;
  /** Releases what the source holds (e.g. its blocking connection); called once the loop ended. */
  close(): Promise<void>;
}

/** Pause after an unexpected error of the source (e.g. Redis unreachable) before trying again. */
const SOURCE_ERROR_PAUSE_MS = 500;
/** How long a delivery's ack (or failure record) is tried again while the source is unreachable. */
const SETTLE_RETRY_MS = 60_000;
const SETTLE_RETRY_MAX_PAUSE_MS = 2_000;

/**
 * Runs `handler` over messages from `source` with at most `policy.concurrency` in flight. The
 * source sees `signal` abort when `stop` is called so it can cut a blocking read short.
 */
export function runConsumer<T>(
  stream: string,
  policy: ConsumePolicy,
  makeSource: (signal: AbortSignal, isInFlight: (handle: T) => boolean) => MessageSource<T>,
  handler: (delivery: Delivery) => Promise<void>,
  logger?: BusLogger,
): Subscription {
  const controller = new AbortController();
  const { signal } = controller;
  const inFlight = new Map<T, Promise<void>>();
  const slotWaiters = new Set<() => void>();
  const source = makeSource(signal, (handle) => inFlight.has(handle));
  const where = { stream, group: policy.group, consumer: policy.consumer };

  const handle = async (taken: Taken<T>): Promise<void> => {
    let failure: string | null = null;
    try {
      // The handler's spans continue the publisher's trace (and only it: nothing of the loop's own).
      await continueTrace(taken.delivery.envelope.traceparent, () => handler(taken.delivery));
    } catch (error) {
      failure = errorText(error);
    }
    const deadline = Date.now() + SETTLE_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        if (failure === null) await source.ack(taken);
        else await source.fail(taken, failure);
        return;
      } catch (error) {
        // A delivery left unsettled is delivered again after the reclaim idle time: handled twice,
        // or, for a call handled at most once, dead-lettered though it was answered. So a settle
        // the store was away for (Redis restarting) is tried again; stopping ends the tries, and
        // what is left pending is reclaimed later, so nothing is lost.
        if (signal.aborted || Date.now() >= deadline) {
          logger?.warn({ ...where, err: errorText(error) }, "bus: could not settle a delivery");
          return;
        }
        await pause(Math.min(SETTLE_RETRY_MAX_PAUSE_MS, SOURCE_ERROR_PAUSE_MS * attempt), signal);
      }
    }
  };

  const dispatch = (batch: Taken<T>[]) => {
    for (const taken of batch) {
      const done = handle(taken).finally(() => {
        inFlight.delete(taken.handle);
        for (const wake of slotWaiters) wake();
      });
      inFlight.set(taken.handle, done);
    }
  };

  const waitForSlot = () =>
    pause(policy.scanIntervalMs, signal, (wake) => {
      slotWaiters.add(wake);
      return () => slotWaiters.delete(wake);
    });

  const loop = (async () => {
    while (!signal.aborted) {
      try {
        if (inFlight.size >= policy.concurrency) {
          await waitForSlot();
          continue;
        }
        const claimed = await source.claimDue(policy.concurrency - inFlight.size);
        dispatch(claimed);
        const room = policy.concurrency - inFlight.size;
        if (room <= 0 || signal.aborted) continue;
        // Do not block while claimed work exists: more may be due right away.
        dispatch(await source.readNew(room, claimed.length > 0 ? 0 : policy.scanIntervalMs));
      } catch (error) {
        if (signal.aborted) break;
        logger?.warn({ ...where, err: errorText(error) }, "bus: consumer loop error, retrying");
        await pause(SOURCE_ERROR_PAUSE_MS, signal);
      }
    }
  })();

  let stopping: Promise<void> | null = null;
  return {
    stop(deadlineMs = DEFAULT_STOP_DEADLINE_MS) {
      stopping ??= (async () => {
        controller.abort();
        await settleWithin(
          (async () => {
            await loop;
            await Promise.allSettled([...inFlight.values()]);
          })(),
          deadlineMs,
        );
        await source.close();
      })();
      return stopping;
    },
  };
}
