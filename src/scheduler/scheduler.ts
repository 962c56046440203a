import { AppError } from "../contracts/index.js";
import type { Logger } from "../observability/index.js";
import type { JobLeaseRepository } from "../store/index.js";
import { checkJob, type Job, type JobState } from "./job.js";

/** A leader job's lease lasts this many intervals, so one slow renewal does not hand the job over. */
export const LEASE_INTERVALS = 3;
/** The shortest lease, so a very short interval does not make leadership flap on a slow database. */
export const MIN_LEASE_TTL_MS = 5_000;

/** What the scheduler needs: who this process is (the lease holder) and where leases live. */
export interface SchedulerOptions {
  /** This process's instance id: the holder recorded on the leases of the leader jobs it runs. */
  holder: string;
  /** The store's job leases; needed only by `leader` jobs. */
  leases?: JobLeaseRepository;
  logger: Logger;
  /** The shortest lease of a leader job; `MIN_LEASE_TTL_MS` unless set (tests shorten it). */
  minLeaseTtlMs?: number;
}

interface Entry {
  job: Job;
  state: JobState;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
  controller: AbortController | null;
  /** Whether this process may hold the lease now (so a clean stop releases it). */
  holdsLease: boolean;
}

/** The lease of a leader job: a few intervals long, never shorter than `minMs`. */
export function leaseTtlMs(intervalMs: number, minMs = MIN_LEASE_TTL_MS): number {
  return Math.max(minMs, LEASE_INTERVALS * intervalMs);
}

/**
 * Owns every periodic job of a process: runs each one every interval without overlapping itself,
 * logs a failure with the job's name and keeps scheduling it; `leader` jobs run only while this
 * process holds their lease. Started and stopped by the composition root; a stop aborts running
 * jobs, waits for them up to its deadline, releases the leases and leaves no timer behind.
 */
export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private isStarted = false;
  private isStopped = false;
  private stopping: Promise<void> | null = null;

  constructor(private readonly opts: SchedulerOptions) {}

  /** Registers a job; one added after `start` is scheduled at once. Names are unique. */
  add(job: Job): void {
    checkJob(job);
    if (this.isStopped)
      throw new AppError("conflict", "invalid_input", `scheduler stopped: cannot add "${job.name}"`);
    if (this.entries.has(job.name)) {
      throw new AppError("conflict", "already_exists", `a job named "${job.name}" is already scheduled`);
    }
    if (job.scope === "leader" && !this.opts.leases) {
      throw new AppError("invalid", "invalid_input", `leader job "${job.name}" needs the store's job leases`);
    }
    const entry: Entry = {
      job,
      state: {
        name: job.name,
        scope: job.scope,
        intervalMs: job.intervalMs,
        runs: 0,
        failures: 0,
        lastStartedAt: null,
        lastFinishedAt: null,
        lastError: null,
        isRunning: false,
        isLeader: job.scope === "every-process",
      },
      timer: null,
      running: null,
      controller: null,
      holdsLease: false,
    };
    this.entries.set(job.name, entry);
    if (this.isStarted) this.schedule(entry, job.runAtStart ? 0 : job.intervalMs);
  }

  /** Starts every registered job (each first runs after one interval, or at once with `runAtStart`). */
  start(): void {
    if (this.isStopped)
      throw new AppError("conflict", "invalid_input", "a stopped scheduler cannot start again");
    if (this.isStarted) return;
    this.isStarted = true;
    for (const entry of this.entries.values())
      this.schedule(entry, entry.job.runAtStart ? 0 : entry.job.intervalMs);
  }

  /** A snapshot of every job's state, by name. */
  state(): JobState[] {
    return [...this.entries.values()].map((entry) => ({ ...entry.state }));
  }

  /**
   * Stops scheduling, aborts running jobs' signals and waits for them up to `deadlineMs`, then
   * releases this process's leases so another process takes the leader jobs over at once.
   */
  stop(deadlineMs = 10_000): Promise<void> {
    this.stopping ??= this.shutdown(deadlineMs);
    return this.stopping;
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    this.isStopped = true;
    const running: Promise<void>[] = [];
    for (const entry of this.entries.values()) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
      entry.controller?.abort(new Error("scheduler stopping"));
      if (entry.running) running.push(entry.running);
    }
    let deadline: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      Promise.all(running).then(() => false),
      new Promise<boolean>((resolve) => {
        deadline = setTimeout(() => resolve(true), deadlineMs);
      }),
    ]);
    clearTimeout(deadline);
    if (late) {
      const names = [...this.entries.values()].filter((e) => e.state.isRunning).map((e) => e.job.name);
      this.opts.logger.warn({ jobs: names, deadlineMs }, "scheduled jobs still running at the stop deadline");
    }
    await Promise.all(
      [...this.entries.values()].filter((e) => e.holdsLease).map((entry) => this.release(entry)),
    );
  }

  private schedule(entry: Entry, delayMs: number): void {
    if (this.isStopped) return;
    entry.timer = setTimeout(() => {
      entry.timer = null;
      entry.running = this.tick(entry).finally(() => {
        entry.running = null;
        this.schedule(entry, entry.job.intervalMs);
      });
    }, delayMs);
    entry.timer.unref();
  }

  private async tick(entry: Entry): Promise<void> {
    if (entry.job.scope === "leader" && (await this.lead(entry)) !== true) return;
    if (this.isStopped) return;
    await this.runOnce(entry);
  }

  /**
   * Takes or renews the lease: true when held, false when another holds it (a change of leadership
   * is logged), null when the store could not say (the lease may still be ours until it expires).
   */
  private async lead(entry: Entry): Promise<boolean | null> {
    const { job } = entry;
    // After a stop, a late renewal must not take back the lease the stop released.
    if (this.isStopped) return false;
    let isLeader: boolean;
    try {
      // Counted as held from the moment we ask: a stop releases it even if the answer is lost.
      entry.holdsLease = true;
      isLeader = await (this.opts.leases as JobLeaseRepository).tryAcquire(
        job.name,
        this.opts.holder,
        this.ttlOf(job),
      );
    } catch (error) {
      this.opts.logger.warn({ err: error, job: job.name }, "could not renew a scheduled job's lease");
      // Maybe still ours: a stop still releases it.
      return null;
    }
    entry.holdsLease = isLeader;
    if (isLeader !== entry.state.isLeader) {
      this.opts.logger.info(
        { job: job.name, holder: this.opts.holder },
        isLeader ? "took the lead of a scheduled job" : "no longer leads a scheduled job",
      );
    }
    entry.state.isLeader = isLeader;
    return isLeader;
  }

  private async runOnce(entry: Entry): Promise<void> {
    const { job, state } = entry;
    const controller = new AbortController();
    entry.controller = controller;
    state.runs += 1;
    state.isRunning = true;
    state.lastStartedAt = new Date().toISOString();
    // A long run of a leader job keeps its lease, and stops when the lease is lost.
    const renewal =
      job.scope === "leader"
        ? setInterval(
            () => {
              void this.lead(entry).then((isLeader) => {
                if (isLeader === false) controller.abort(new Error(`lost the lease of job "${job.name}"`));
              });
            },
            Math.max(1, Math.floor(this.ttlOf(job) / LEASE_INTERVALS)),
          )
        : null;
    renewal?.unref();
    try {
      await job.run(controller.signal);
      state.lastError = null;
    } catch (error) {
      state.failures += 1;
      state.lastError = error instanceof Error ? error.message : String(error);
      if (!controller.signal.aborted) {
        this.opts.logger.error({ err: error, job: job.name }, "scheduled job failed");
      }
    } finally {
      if (renewal) clearInterval(renewal);
      entry.controller = null;
      state.isRunning = false;
      state.lastFinishedAt = new Date().toISOString();
    }
  }

  private ttlOf(job: Job): number {
    return leaseTtlMs(job.intervalMs, this.opts.minLeaseTtlMs);
  }

  private async release(entry: Entry): Promise<void> {
    entry.holdsLease = false;
    entry.state.isLeader = false;
    await (this.opts.leases as JobLeaseRepository)
      .release(entry.job.name, this.opts.holder)
      .catch((error: unknown) =>
        this.opts.logger.warn(
          { err: error, job: entry.job.name },
          "could not release a scheduled job's lease",
        ),
      );
  }
}
