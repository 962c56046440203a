import { randomUUID } from "node:crypto";
import { AppError, BusEnvelope, parseOrThrow } from "../contracts/index.js";
import { currentTraceparent } from "../observability/index.js";
import type { ConsumeOptions } from "./bus.js";

/** The narrow logging port the bus needs; a pino `Logger` satisfies it. */
export interface BusLogger {
  warn(obj: object, msg: string): void;
}

/** Consume options with every default filled in; both implementations read only this. */
export interface ConsumePolicy {
  group: string;
  consumer: string;
  maxDeliveries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  reclaimIdleMs: number;
  concurrency: number;
  /** How often a consumer looks for messages due for retry or reclaim (derived, not configurable). */
  scanIntervalMs: number;
}

/** Defaults chosen for pipeline triggers: handlers are idempotent and may take minutes. */
export const DEFAULT_MAX_DELIVERIES = 5;
export const DEFAULT_RETRY_BASE_MS = 1_000;
export const DEFAULT_RETRY_MAX_MS = 60_000;
export const DEFAULT_RECLAIM_IDLE_MS = 5 * 60_000;
export const DEFAULT_STOP_DEADLINE_MS = 10_000;
/** Streams are trimmed (approximately) to this many entries so they cannot grow without bound. */
export const DEFAULT_STREAM_MAX_LEN = 100_000;

const MIN_SCAN_INTERVAL_MS = 5;
const MAX_SCAN_INTERVAL_MS = 1_000;

/** Fills defaults and rejects nonsense (a zero delivery cap would dead-letter everything unseen). */
export function resolvePolicy(options: ConsumeOptions): ConsumePolicy {
  const policy = {
    group: options.group,
    consumer: options.consumer,
    maxDeliveries: options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES,
    retryBaseMs: options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS,
    retryMaxMs: options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS,
    reclaimIdleMs: options.reclaimIdleMs ?? DEFAULT_RECLAIM_IDLE_MS,
    concurrency: options.concurrency ?? 1,
  };
  const bad: { path: string; message: string }[] = [];
  if (!policy.group) bad.push({ path: "group", message: "required" });
  if (!policy.consumer) bad.push({ path: "consumer", message: "required" });
  for (const key of ["maxDeliveries", "concurrency"] as const) {
    if (!Number.isInteger(policy[key]) || policy[key] < 1) bad.push({ path: key, message: "integer >= 1" });
  }
  for (const key of ["retryBaseMs", "retryMaxMs", "reclaimIdleMs"] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 1) bad.push({ path: key, message: "number >= 1" });
  }
  if (bad.length > 0)
    throw new AppError("invalid", "bus_bad_consume_options", "invalid consume options", { details: bad });
  // Half the shortest wait keeps retries and reclaims close to their due time without busy polling.
  const scanIntervalMs = Math.min(
    MAX_SCAN_INTERVAL_MS,
    Math.max(MIN_SCAN_INTERVAL_MS, Math.floor(Math.min(policy.retryBaseMs, policy.reclaimIdleMs) / 2)),
  );
  return { ...policy, scanIntervalMs };
}

/** Delay before redelivering after the `deliveryCount`-th attempt failed. */
export function backoffMs(policy: ConsumePolicy, deliveryCount: number): number {
  const exponent = Math.max(0, deliveryCount - 1);
  return Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** exponent);
}

/** What `publish` accepts; the bus fills id and time. */
export interface OutgoingMessage {
  type: string;
  payload: unknown;
  correlationId?: string | null;
  replyTo?: string | null;
}

/**
 * Builds and validates an envelope. The payload goes through a JSON round trip so the in-process bus
 * hands consumers exactly what Redis would (no shared mutable objects, no Dates or undefined). The
 * active span, when there is one, travels as the envelope's `traceparent`.
 */
export function makeEnvelope(message: OutgoingMessage): BusEnvelope {
  const payloadJson = JSON.stringify(message.payload ?? null);
  return parseOrThrow(
    BusEnvelope,
    {
      id: randomUUID(),
      type: message.type,
      payload: JSON.parse(payloadJson),
      correlationId: message.correlationId ?? null,
      replyTo: message.replyTo ?? null,
      traceparent: currentTraceparent(),
      createdAt: new Date().toISOString(),
    },
    "bus message",
  );
}

/** The reply to a request carries the request's correlation id (or its id) for tracing. */
export function replyMessage(
  request: BusEnvelope,
  message: { type: string; payload: unknown },
): OutgoingMessage {
  return { type: message.type, payload: message.payload, correlationId: request.correlationId ?? request.id };
}

/** Refuses an age `dropDeadLetters` cannot go by. */
export function checkAge(ageMs: number): void {
  if (!Number.isSafeInteger(ageMs) || ageMs < 0) {
    throw new AppError(
      "invalid",
      "invalid_input",
      "an age must be a whole number of milliseconds, 0 or more",
      {
        details: [{ path: "ageMs", message: "a non-negative integer" }],
      },
    );
  }
}

/** Name of the stream that keeps messages of `stream` that exhausted their deliveries. */
export function deadStreamOf(stream: string): string {
  return `${stream}.dead`;
}

/** A fresh private reply stream name. */
export function newReplyStream(): string {
  return `reply:${randomUUID()}`;
}

/** Rejection of a request nobody answered in time; transient from the caller's point of view. */
export function requestTimeout(stream: string, type: string, timeoutMs: number): AppError {
  return new AppError(
    "unavailable",
    "bus_request_timeout",
    `no reply to ${type} on ${stream} within ${timeoutMs} ms`,
  );
}

/** The text kept with a failed delivery; never the stack (it may hold paths and is noisy). */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** Error recorded when a message is dead-lettered because its last holder never acked it. */
export const NOT_ACKED_ERROR = "not acknowledged: consumer died or hung past reclaimIdleMs";

/**
 * Resolves after `ms` or as soon as `signal` aborts, whichever is first, and leaves no timer behind.
 */
export function pause(
  ms: number,
  signal?: AbortSignal,
  wake?: (resolve: () => void) => () => void,
): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    let unsubscribe = () => {};
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    if (wake) unsubscribe = wake(done);
  });
}

/** Waits for `work` to settle, giving up after `deadlineMs` (the work keeps running). */
export async function settleWithin(work: Promise<unknown>, deadlineMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, deadlineMs);
  });
  try {
    await Promise.race([
      work.then(
        () => {},
        () => {},
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
