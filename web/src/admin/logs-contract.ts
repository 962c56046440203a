/** The Logs page's entries (`GET /api/admin/logs`, `/api/admin/logs/stream`), as the page reads them. */

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One log line, masked by the process that wrote it; `seq` numbers it in the API's arrival order. */
export interface LogEntry {
  seq: number;
  time: string;
  level: LogLevel;
  component: string | null;
  msg: string;
  projectId: string | null;
  runId: string | null;
  workerId: string | null;
  /** The process (instance id) that wrote it. */
  node: string | null;
  /** The line's other fields, as JSON, shortened. */
  detail: string | null;
}

export interface LogList {
  entries: LogEntry[];
  components: string[];
  capacity: number;
}

/** The filters of the Logs page, as in its address. */
export interface LogFilters {
  component: string;
  level: LogLevel | "";
  projectId: string;
  runId: string;
}
