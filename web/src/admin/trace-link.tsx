import { useEffect, useState } from "react";
import { apiRequest } from "../api";
import type { AdminApi } from "./admin-api";
import type { TracingView } from "./tracing-contract";

/** What the admin pages are told of tracing (whether it is on, the trace viewer's address). */
export function tracingView(api: AdminApi, signal?: AbortSignal): Promise<TracingView> {
  return apiRequest("GET", `${api.baseUrl}/api/admin/tracing`, signal ? { signal } : {});
}

/** A run's trace in the viewer `OTEL_TRACE_URL` names; null when none is configured. */
export function traceHref(traceUrl: string | null, traceId: string): string | null {
  return traceUrl ? traceUrl.replaceAll("{traceId}", encodeURIComponent(traceId)) : null;
}

/**
 * A run's trace id, as a link to the trace viewer when `OTEL_TRACE_URL` is set, else as text; "not
 * traced" for a run started without tracing.
 */
export function TraceLink({ api, traceId }: { api: AdminApi; traceId: string | null }) {
  const [traceUrl, setTraceUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!traceId) return;
    const controller = new AbortController();
    tracingView(api, controller.signal).then(
      (view) => setTraceUrl(view.traceUrl),
      () => setTraceUrl(null), // the id is still shown as text
    );
    return () => controller.abort();
  }, [api, traceId]);
  if (!traceId) return <span className="trace-link trace-link--none">not traced</span>;
  const href = traceHref(traceUrl, traceId);
  return href ? (
    <a className="trace-link" href={href} target="_blank" rel="noreferrer" aria-label={`Trace ${traceId}`}>
      <code>{traceId}</code>
    </a>
  ) : (
    <code className="trace-link">{traceId}</code>
  );
}
