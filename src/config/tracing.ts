import { z } from "zod";
import type { EnvVarSpec } from "./values.js";

/** The placeholder `OTEL_TRACE_URL` names where a trace id goes. */
export const TRACE_ID_PLACEHOLDER = "{traceId}";

/** Settings of OpenTelemetry tracing: off unless an OTLP endpoint is given. */
export const TRACING_VARS = {
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    schema: z.url({ protocol: /^https?$/ }),
    doc: "OTLP/HTTP collector base URL (e.g. http://jaeger:4318): spans go to its /v1/traces; tracing is off without it",
  },
  OTEL_SERVICE_NAME: {
    schema: z.string().min(1).max(200),
    doc: "The service.name resource attribute of every span",
    default: "codegen-orchestrator",
  },
  OTEL_TRACE_URL: {
    schema: z
      .url({ protocol: /^https?$/ })
      .refine((url) => url.includes(TRACE_ID_PLACEHOLDER), `must contain ${TRACE_ID_PLACEHOLDER}`),
    doc: "Address of one trace in a trace viewer, with {traceId} where its id goes (e.g. http://jaeger:16686/trace/{traceId}): the admin run page links a run's trace there",
  },
} as const satisfies Record<string, EnvVarSpec>;

/** The `tracing` section of the typed settings. */
export const TracingSettings = z.object({
  /** The collector's base URL; null: no provider, no exporter, the API's no-op tracer. */
  endpoint: z.string().nullable(),
  serviceName: z.string(),
  /** A trace viewer's address template with `{traceId}`; null: trace ids are shown without a link. */
  traceUrl: z.string().nullable(),
});
export type TracingSettings = z.infer<typeof TracingSettings>;
