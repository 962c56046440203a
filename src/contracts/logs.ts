import { z } from "zod";
import { Id, Timestamp } from "./ids.js";

/** Log levels by name, lowest first, as pino numbers them (10, 20, … 60). */
export const LogLevelName = z.enum(["trace", "debug", "info", "warn", "error", "fatal"]);
export type LogLevelName = z.infer<typeof LogLevelName>;

/** pino's number of a level name, and the name of a number (rounded down to a known level). */
export function levelNumber(name: LogLevelName): number {
  return (LogLevelName.options.indexOf(name) + 1) * 10;
}
export function levelName(value: number): LogLevelName {
  const index = Math.min(Math.max(Math.floor(value / 10) - 1, 0), LogLevelName.options.length - 1);
  return LogLevelName.options[index] ?? "info";
}

/**
 * One log line as the admin Logs page shows it: already masked by the logger that wrote it, with
 * the module (`component`) and the correlation ids the line carried, and the process (`node`,
 * its instance id) that wrote it. `detail` holds the line's other fields, shortened.
 */
export const LogEntry = z.object({
  time: Timestamp,
  level: LogLevelName,
  component: z.string().max(100).nullable(),
  msg: z.string().max(4000),
  projectId: Id.nullable(),
  runId: Id.nullable(),
  workerId: Id.nullable(),
  node: z.string().max(200).nullable(),
  detail: z.string().max(4000).nullable(),
});
export type LogEntry = z.infer<typeof LogEntry>;

/** A log entry as the API keeps it: numbered in arrival order (the event id of the live stream). */
export const LoggedEntry = LogEntry.extend({ seq: z.number().int().positive() });
export type LoggedEntry = z.infer<typeof LoggedEntry>;

/** What the log feed's bus messages carry: a batch of entries from one process. */
export const LogBatch = z.object({ entries: z.array(LogEntry).max(1000) });
export type LogBatch = z.infer<typeof LogBatch>;

/**
 * Filters of the recent log entries: a component, a minimum level, a project, a run; `limit` the
 * newest that many (oldest first).
 */
export const LogQuery = z.object({
  component: z.string().trim().min(1).max(100).optional(),
  level: LogLevelName.optional(),
  projectId: Id.optional(),
  runId: Id.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export type LogQuery = z.infer<typeof LogQuery>;

/** The recent entries that match a query, and the names of the components seen so far. */
export const LogList = z.object({
  entries: z.array(LoggedEntry),
  components: z.array(z.string()),
  /** How many entries the API keeps at most; older ones are gone from this view. */
  capacity: z.number().int().positive(),
});
export type LogList = z.infer<typeof LogList>;
