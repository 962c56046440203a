import { AppError } from "../contracts/index.js";

/**
 * Where a job runs when several processes run the scheduler: `leader` on one process at a time
 * (the holder of its lease in the store), `every-process` on each process that registers it.
 */
export type JobScope = "leader" | "every-process";

/** A periodic piece of work the scheduler owns: the class it belongs to keeps only the method it calls. */
export interface Job {
  /** Unique per scheduler, kebab-case or dotted (`server-checks`, `runs.recover-engineering`). */
  readonly name: string;
  /** Pause between the end of one run and the start of the next (runs never overlap). */
  readonly intervalMs: number;
  readonly scope: JobScope;
  /** Runs once at start (or when the lease is first won) instead of one interval later. */
  readonly runAtStart?: boolean;
  /** One run; `signal` aborts when the scheduler stops or a leader job's lease is lost. */
  run(signal: AbortSignal): Promise<void>;
}

/** What `/health` and metrics can tell about a job, read from the scheduler at any time. */
export interface JobState {
  name: string;
  scope: JobScope;
  intervalMs: number;
  /** Runs started so far in this process. */
  runs: number;
  /** Runs that threw or rejected. */
  failures: number;
  lastStartedAt: string | null;
  lastFinishedAt: string | null;
  /** The message of the last failure, cleared by the next success. */
  lastError: string | null;
  isRunning: boolean;
  /** For `leader` jobs: whether this process held the lease at its last try; always true otherwise. */
  isLeader: boolean;
}

const NAME = /^[a-z0-9]+(?:[.-][a-z0-9]+)*$/;

/** Rejects a job the scheduler could not run well: a bad name or an interval that is not a positive integer. */
export function checkJob(job: Job): void {
  if (!NAME.test(job.name) || job.name.length > 120) {
    throw new AppError("invalid", "invalid_input", `invalid job name "${job.name}"`, {
      details: [{ path: "name", message: "kebab-case or dotted, lowercase, up to 120 characters" }],
    });
  }
  if (!Number.isSafeInteger(job.intervalMs) || job.intervalMs <= 0) {
    throw new AppError("invalid", "invalid_input", `invalid interval for job "${job.name}"`, {
      details: [{ path: "intervalMs", message: "a positive integer" }],
    });
  }
}
