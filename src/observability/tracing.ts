import {
  type Attributes,
  type AttributeValue,
  type Context,
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { TracingOptions } from "./tracing-options.js";

export { ATTR_PROCESS_ROLES, type TextRedactor, type TracingOptions, tracesUrl } from "./tracing-options.js";

/** The instrumentation scope every span of the orchestrator is made under. */
export const TRACER_NAME = "codegen-orchestrator";

/** Span attributes as callers give them: ids, kinds, results, counts; unset values are left out. */
export type SpanAttributes = Readonly<Record<string, AttributeValue | null | undefined>>;
/** A live span, to add what is known only at its end (a result, token counts). */
export type TraceSpan = Pick<Span, "setAttribute" | "setAttributes" | "setStatus">;

/** The process's tracing, started by the composition root; `stop` flushes what is still queued. */
export interface Tracing {
  /** False when no endpoint is set: spans are the API's no-op ones and nothing is sent. */
  readonly isEnabled: boolean;
  stop(deadlineMs?: number): Promise<void>;
}

const MAX_STATUS_MESSAGE = 300;
const w3c = new W3CTraceContextPropagator();

/**
 * Starts tracing when an OTLP endpoint is configured: a tracer provider exporting batches over
 * OTLP/HTTP, registered with the OpenTelemetry API together with an async context manager and W3C
 * propagation. Without an endpoint nothing is registered: every span the modules make is the
 * API's no-op span and no request is ever made, and the SDK is not even loaded (it is most of what
 * tracing costs a process's start, and every CLI call and role process starts). One provider per
 * process: a second start while one is registered is refused.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  if (!options.endpoint) return { isEnabled: false, stop: async () => {} };
  const { registerTracerProvider } = await import("./tracing-sdk.js");
  const provider = await registerTracerProvider({ ...options, endpoint: options.endpoint });
  propagation.setGlobalPropagator(w3c);
  let stopping: Promise<void> | null = null;
  return {
    isEnabled: true,
    stop: (deadlineMs = 5_000) => {
      stopping ??= (async () => {
        const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
        await Promise.race([provider.shutdown().catch(() => undefined), deadline]);
        trace.disable();
        context.disable();
        propagation.disable();
      })();
      return stopping;
    },
  };
}

function tracer() {
  return trace.getTracer(TRACER_NAME);
}

function cleanAttributes(attributes: SpanAttributes): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) if (value != null) out[key] = value;
  return out;
}

/**
 * Runs `fn` inside a new span named `name`, a child of the active one (or a new trace's root with
 * `root`). The span ends when `fn` settles; a throw marks it failed with the error's code (an
 * `AppError`'s) or name. Attributes carry ids, kinds, results and counts only, never text a
 * person or a model wrote. Costs nothing when tracing is off.
 */
export async function inSpan<T>(
  name: string,
  attributes: SpanAttributes,
  fn: (span: TraceSpan) => Promise<T>,
  options: { root?: boolean } = {},
): Promise<T> {
  return tracer().startActiveSpan(
    name,
    { attributes: cleanAttributes(attributes), ...(options.root ? { root: true } : {}) },
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        markFailed(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Marks `span` failed by `error`: its code or class as `error.type`, and its message (masked on export). */
function markFailed(span: Span, error: unknown): void {
  const code = (error as { code?: unknown })?.code;
  const type = typeof code === "string" ? code : error instanceof Error ? error.name : "error";
  const message = error instanceof Error ? error.message.slice(0, MAX_STATUS_MESSAGE) : type;
  span.setAttribute("error.type", type);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** Sets a span's outcome as a failure with a code from our closed sets (a run's or a turn's). */
export function failSpan(span: TraceSpan, code: string): void {
  span.setAttribute("error.type", code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

/** The active trace's id (32 hex digits), or null outside a recorded trace (always, with tracing off). */
export function currentTraceId(): string | null {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : null;
}

/** The active span as a W3C `traceparent` header value, or null outside a trace. */
export function currentTraceparent(): string | null {
  const carrier: Record<string, string> = {};
  w3c.inject(context.active(), carrier, {
    set: (c, key, value) => {
      c[key] = value;
    },
  });
  return carrier.traceparent ?? null;
}

/** The context a W3C `traceparent` continues (the root context for null or a malformed one). */
function contextOf(traceparent: string | null): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return w3c.extract(ROOT_CONTEXT, { traceparent }, { get: (c, key) => c[key], keys: (c) => Object.keys(c) });
}

/**
 * Runs `fn` as a continuation of the trace `traceparent` names (carried across the bus), so the
 * spans it makes are children of the sender's. Without one, `fn` runs outside any trace.
 */
export function continueTrace<T>(traceparent: string | null, fn: () => T): T {
  return context.with(contextOf(traceparent), fn);
}

/**
 * Captures the active trace: the function returned runs its argument as part of it, wherever it is
 * called from (e.g. a tool call of a turn, arriving over another door while the turn runs).
 */
export function bindToActiveTrace(): <T>(fn: () => T) => T {
  const captured = context.active();
  return (fn) => context.with(captured, fn);
}
