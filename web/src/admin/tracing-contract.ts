/** The web side's copy of `GET /api/admin/tracing` (src/api/routes/tracing.ts). */
export interface TracingView {
  /** Spans go to an OTLP collector. */
  isEnabled: boolean;
  /** A trace viewer's address with `{traceId}` where a run's trace id goes; null: none configured. */
  traceUrl: string | null;
}
