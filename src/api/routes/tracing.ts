import { z } from "zod";
import type { Api, ApiDeps } from "../context.js";

/** What the admin pages know of tracing: whether spans are exported, and where a trace is viewed. */
export const TracingView = z.object({
  /** Spans go to an OTLP collector (`OTEL_EXPORTER_OTLP_ENDPOINT` is set). */
  isEnabled: z.boolean(),
  /** A trace viewer's address with `{traceId}` where a run's trace id goes (`OTEL_TRACE_URL`); null: none. */
  traceUrl: z.string().nullable(),
});

/** `GET /api/admin/tracing`: lets the run page link a run's `traceId` to the trace viewer. */
export function registerTracingRoutes(app: Api, deps: ApiDeps): void {
  const tracing = deps.tracing ?? { isEnabled: false, traceUrl: null };
  app.get(
    "/api/admin/tracing",
    { schema: { tags: ["admin"], response: { 200: TracingView } } },
    async () => ({
      isEnabled: tracing.isEnabled,
      traceUrl: tracing.traceUrl,
    }),
  );
}
