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
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";

/** The instrumentation scope every span of the orchestrator is made under. */
export const TRACER_NAME = "codegen-orchestrator";

/** Span attributes as callers give them: ids, kinds, results, counts; unset values are left out. */
export type SpanAttributes = Readonly<Record<string, AttributeValue | null | undefined>>;
/** A live span, to add what is known only at its end (a result, token counts). */
export type TraceSpan = Pick<Span, "setAttribute" | "setAttributes" | "setStatus">;

/** The part of the process's `SecretRedactor` the exporter uses: every string it sends is masked. */
export interface TextRedactor {
  redact(text: string): string;
}

/** How a process traces: its settings (from `TracingSettings`) and who it is. */
export interface TracingOptions {
  endpoint: string | null;
  serviceName: string;
  version: string;
  /** The roles this process runs (`api`, `engine`, `workers`, `chat`, `scheduler`), a resource attribute of its spans. */
  roles: readonly string[];
  instanceId?: string;
  redactor: TextRedactor;
  /** A test can send spans elsewhere; the default is OTLP/HTTP JSON to `<endpoint>/v1/traces`. */
  exporter?: SpanExporter;
}

/** The process's tracing, started by the composition root; `stop` flushes what is still queued. */
export interface Tracing {
  /** False when no endpoint is set: spans are the API's no-op ones and nothing is sent. */
  readonly isEnabled: boolean;
  stop(deadlineMs?: number): Promise<void>;
}

/** Resource attribute naming the roles a process runs. */
export const ATTR_PROCESS_ROLES = "orchestrator.roles";
const MAX_STATUS_MESSAGE = 300;
const w3c = new W3CTraceContextPropagator();

/**
 * Starts tracing when an OTLP endpoint is configured: a tracer provider exporting batches over
 * OTLP/HTTP, registered with the OpenTelemetry API together with an async context manager and W3C
 * propagation. Without an endpoint nothing is registered: every span the modules make is the
 * API's no-op span and no request is ever made. One provider per process: a second start while one
 * is registered is refused.
 */
export function startTracing(options: TracingOptions): Tracing {
  if (!options.endpoint) return { isEnabled: false, stop: async () => {} };
  const exporter = new RedactingExporter(
    options.exporter ?? new OTLPTraceExporter({ url: tracesUrl(options.endpoint) }),
    options.redactor,
  );
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.version,
      [ATTR_PROCESS_ROLES]: [...options.roles],
      ...(options.instanceId ? { "service.instance.id": options.instanceId } : {}),
    }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  if (!trace.setGlobalTracerProvider(provider)) {
    void provider.shutdown().catch(() => undefined);
    throw new Error("a tracer provider is already registered in this process");
  }
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
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

/** `OTEL_EXPORTER_OTLP_ENDPOINT` is a base URL: traces go to its `v1/traces`, as the spec says. */
export function tracesUrl(endpoint: string): string {
  return new URL("v1/traces", endpoint.endsWith("/") ? endpoint : `${endpoint}/`).toString();
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

/** An exporter that masks every known secret in what it sends: attributes, events and statuses. */
class RedactingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly redactor: TextRedactor,
  ) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter["export"]>[1]): void {
    this.inner.export(
      spans.map((span) => this.#masked(span)),
      done,
    );
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  #masked(span: ReadableSpan): ReadableSpan {
    const status = span.status.message
      ? { ...span.status, message: this.redactor.redact(span.status.message) }
      : span.status;
    return {
      name: span.name,
      kind: span.kind,
      spanContext: () => span.spanContext(),
      ...(span.parentSpanContext ? { parentSpanContext: span.parentSpanContext } : {}),
      startTime: span.startTime,
      endTime: span.endTime,
      status,
      attributes: this.#attributes(span.attributes),
      links: span.links,
      events: span.events.map((event) =>
        event.attributes ? { ...event, attributes: this.#attributes(event.attributes) } : event,
      ),
      duration: span.duration,
      ended: span.ended,
      resource: span.resource,
      instrumentationScope: span.instrumentationScope,
      droppedAttributesCount: span.droppedAttributesCount,
      droppedEventsCount: span.droppedEventsCount,
      droppedLinksCount: span.droppedLinksCount,
    };
  }

  #attributes(attributes: Attributes): Attributes {
    const out: Attributes = {};
    for (const [key, value] of Object.entries(attributes)) {
      if (typeof value === "string") out[key] = this.redactor.redact(value);
      else if (Array.isArray(value))
        out[key] = value.map((v) => (typeof v === "string" ? this.redactor.redact(v) : v)) as AttributeValue;
      else out[key] = value;
    }
    return out;
  }
}
