import { type DestinationStream, type Logger, pino } from "pino";
import type { SecretRedactor } from "./redaction.js";

export type { Logger } from "pino";

/** Correlation ids carried by child loggers so one run's story can be followed across modules. */
export interface Correlation {
  projectId?: string;
  runId?: string;
  workerId?: string;
}

/**
 * The root logger: JSON lines, every line passed through the redactor before it is written, and
 * header-borne credentials removed by path. Modules take `logger.child({ component })`.
 */
export function createLogger(opts: {
  level: string;
  redactor: SecretRedactor;
  destination?: DestinationStream;
  /** Also hands every (masked) line to this feed: the log publisher of the Logs page. */
  feed?: { write(line: string): void };
}): Logger {
  const destination = opts.destination ?? pino.destination({ fd: 1, sync: false });
  return pino(
    {
      level: opts.level,
      base: { service: "orchestrator" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        // Request headers that carry credentials: a bearer token, a web session's cookie.
        paths: [
          "req.headers.authorization",
          "req.headers.cookie",
          "*.authorization",
          "*.cookie",
          '*["set-cookie"]',
          "*.token",
          "*.password",
        ],
        censor: "[REDACTED]",
      },
      hooks: {
        streamWrite: (line) => opts.redactor.redact(line),
      },
    },
    opts.feed ? tee(destination, opts.feed) : destination,
  );
}

/** Writes each line to the destination, then to the feed; flushing flushes the destination. */
function tee(destination: DestinationStream, feed: { write(line: string): void }): DestinationStream {
  const flushable = destination as DestinationStream & {
    flush?: (cb?: (err?: Error) => void) => void;
    flushSync?: () => void;
  };
  return Object.assign(
    {
      write(line: string) {
        destination.write(line);
        feed.write(line);
      },
    },
    flushable.flush ? { flush: (cb?: (err?: Error) => void) => flushable.flush?.(cb) } : {},
    flushable.flushSync ? { flushSync: () => flushable.flushSync?.() } : {},
  );
}

/** A child logger for one module, with optional correlation ids. */
export function componentLogger(root: Logger, component: string, correlation: Correlation = {}): Logger {
  return root.child({ component, ...correlation });
}
