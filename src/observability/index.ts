export { type Correlation, componentLogger, createLogger, type Logger } from "./logger.js";
export { createMetrics, type Metrics } from "./metrics.js";
export { SecretRedactor } from "./redaction.js";
