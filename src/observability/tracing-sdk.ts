import type { Attributes, AttributeValue } from "@opentelemetry/api";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { ATTR_PROCESS_ROLES, type TextRedactor, type TracingOptions, tracesUrl } from "./tracing-options.js";

/**
 * The OpenTelemetry SDK side of tracing, loaded by `startTracing` only when an endpoint is set:
 * registers a tracer provider exporting batches over OTLP/HTTP (every string masked on the way out)
 * and an async context manager. Refuses a second provider in one process.
 */
export async function registerTracerProvider(
  options: TracingOptions & { endpoint: string },
): Promise<{ shutdown(): Promise<void> }> {
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
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return provider;
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
