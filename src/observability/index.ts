export {
  entryOfLine,
  LOG_BUS_MAX_LEN,
  LOG_STREAM,
  LogPublisher,
  type LogPublisherOptions,
  type LogPublisherStats,
} from "./log-publisher.js";
export { followLogs, LOG_RING_CAPACITY, type LogFilter, LogRing, matchesLog } from "./log-ring.js";
export { type Correlation, componentLogger, createLogger, type Logger } from "./logger.js";
export { COLLECT_DEADLINE_MS, createMetrics, type Metrics, type ScrapeCollector } from "./metrics.js";
export {
  type ModelCallOutcome,
  outcomeOfStatus,
  type ProviderBaseUrls,
  timedModelFetch,
} from "./model-metrics.js";
export { MIN_SECRET_LENGTH, maskTokens, REDACTED, type RedactOptions, SecretRedactor } from "./redaction.js";
export { followRunEvents, HEALTH_GATE_STAGE, type RunMetricsFeed } from "./run-metrics.js";
export {
  busBacklogCollector,
  type DeployedService,
  deployedServicesCollector,
  type MetricsStore,
  runsInProgressCollector,
  workersCollector,
} from "./scrape-metrics.js";
export {
  ATTR_PROCESS_ROLES,
  bindToActiveTrace,
  continueTrace,
  currentTraceId,
  currentTraceparent,
  failSpan,
  inSpan,
  type SpanAttributes,
  startTracing,
  type TextRedactor,
  TRACER_NAME,
  type TraceSpan,
  type Tracing,
  type TracingOptions,
  tracesUrl,
} from "./tracing.js";
