export { type Correlation, componentLogger, createLogger, type Logger } from "./logger.js";
export { createMetrics, type Metrics } from "./metrics.js";
export { MIN_SECRET_LENGTH, maskTokens, REDACTED, type RedactOptions, SecretRedactor } from "./redaction.js";
export { followRunEvents, type RunMetricsFeed } from "./run-metrics.js";
