import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { parseOrThrow } from "../../contracts/index.js";

/** Poll interval of a health gate (Kamal's default). */
export const HEALTH_INTERVAL_MS = 1_000;
/** How long a release may take to become healthy before the gate fails. */
export const HEALTH_DEADLINE_MS = 30_000;
/** Bound on one probe, so a service that accepts but never answers cannot eat the whole deadline. */
export const HEALTH_REQUEST_TIMEOUT_MS = 2_000;

/**
 * What a health gate concluded: healthy after `attempts` probes, or not, with a reason a person can
 * read (no secrets: only the probed URL, statuses and error codes). Shared by every gate kind.
 */
export type HealthGateResult =
  | { ok: true; attempts: number; elapsedMs: number; status: number }
  | { ok: false; attempts: number; elapsedMs: number; reason: string };

const HttpHealthGateOptions = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: "an http:// or https:// base URL" }),
  path: z.string().regex(/^\/[^\s]*$/, "an absolute path such as /health"),
  intervalMs: z.number().int().min(10).max(60_000).default(HEALTH_INTERVAL_MS),
  deadlineMs: z.number().int().min(1).max(3_600_000).default(HEALTH_DEADLINE_MS),
  requestTimeoutMs: z.number().int().min(10).max(60_000).default(HEALTH_REQUEST_TIMEOUT_MS),
  isAlive: z.custom<() => Promise<boolean>>((value) => typeof value === "function", "a function").optional(),
});

/** Options of `httpHealthGate`; `isAlive` lets the gate stop early when the process died. */
export interface HttpHealthGateOptions {
  /** Base URL of the service, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The template's health path, e.g. `/health`. */
  path: string;
  intervalMs?: number;
  deadlineMs?: number;
  requestTimeoutMs?: number;
  isAlive?: () => Promise<boolean>;
}

/**
 * The HTTP health gate: GETs `url` + `path` every `intervalMs` until a 2xx answer (healthy) or
 * `deadlineMs` (not healthy, with the last problem seen). Stops early when `isAlive` says the
 * process is gone, since waiting out the deadline then only delays the rollback.
 */
export async function httpHealthGate(options: HttpHealthGateOptions): Promise<HealthGateResult> {
  const input = parseOrThrow(HttpHealthGateOptions, options, "health gate options");
  const target = new URL(input.path, input.url).toString();
  const isAlive = input.isAlive;
  const startedAt = performance.now();
  const elapsed = () => Math.round(performance.now() - startedAt);
  let attempts = 0;
  let lastProblem = "no answer yet";
  const exited = async (): Promise<HealthGateResult | null> =>
    isAlive && !(await isAlive())
      ? {
          ok: false,
          attempts,
          elapsedMs: elapsed(),
          reason: `the process exited (last probe: ${lastProblem})`,
        }
      : null;
  for (;;) {
    const gone = await exited();
    if (gone) return gone;
    const remaining = input.deadlineMs - elapsed();
    if (remaining <= 0) break;
    attempts += 1;
    const timeoutMs = Math.min(input.requestTimeoutMs, remaining);
    const probe = await probeOnce(target, timeoutMs);
    if (probe.ok) return { ok: true, attempts, elapsedMs: elapsed(), status: probe.status };
    // A probe the deadline cut short and that timed out says nothing new: keep what was seen before.
    const cutShort = probe.timedOut && timeoutMs < input.requestTimeoutMs && attempts > 1;
    if (!cutShort) lastProblem = probe.problem;
    const wait = Math.min(input.intervalMs, input.deadlineMs - elapsed());
    if (wait <= 0) break;
    await sleep(wait);
  }
  const gone = await exited();
  if (gone) return gone;
  return {
    ok: false,
    attempts,
    elapsedMs: elapsed(),
    reason: `GET ${target} gave no 2xx within ${input.deadlineMs} ms (${attempts} attempts; last: ${lastProblem})`,
  };
}

type Probe = { ok: true; status: number } | { ok: false; problem: string; timedOut: boolean };

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

/** One GET with its own timeout; the body is discarded so the connection is freed. */
async function probeOnce(target: string, timeoutMs: number): Promise<Probe> {
  try {
    const response = await fetch(target, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
      headers: { connection: "close" },
    });
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
    return { ok: false, problem: `status ${response.status}`, timedOut: false };
  } catch (error) {
    return { ok: false, problem: describeFetchError(error, timeoutMs), timedOut: isTimeout(error) };
  }
}

/** `connection refused`, `timed out after 2000 ms`, ...: the cause's code, never a stack. */
function describeFetchError(error: unknown, timeoutMs: number): string {
  if (isTimeout(error)) return `timed out after ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return "connection reset";
  if (code) return code;
  return error instanceof Error ? error.message : String(error);
}
