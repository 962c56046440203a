/** What starting tracing takes, shared by `tracing.ts` and the SDK side it loads (`tracing-sdk.ts`). */
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";

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

/** Resource attribute naming the roles a process runs. */
export const ATTR_PROCESS_ROLES = "orchestrator.roles";

/** `OTEL_EXPORTER_OTLP_ENDPOINT` is a base URL: traces go to its `v1/traces`, as the spec says. */
export function tracesUrl(endpoint: string): string {
  return new URL("v1/traces", endpoint.endsWith("/") ? endpoint : `${endpoint}/`).toString();
}
