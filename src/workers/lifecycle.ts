import {
  nullIfNotFound,
  type RunStatus,
  RunStatusMachine,
  type Worker,
  type WorkerRuntime,
  type WorkerState,
} from "../contracts/index.js";
import type { Logger, Metrics } from "../observability/index.js";
import type { Job } from "../scheduler/index.js";
import type { Store } from "../store/index.js";
import { nodeOf, type WorkerManager } from "./manager.js";
import type { Runtime } from "./runtime.js";

/** What one sweep did, for logs and tests. */
export interface SweepReport {
  terminated: { workerId: string; reason: string }[];
  orphansRemoved: string[];
  markedGone: string[];
}

const LIVE: WorkerState[] = ["starting", "running", "paused"];
const STARTING_GRACE_MS = 60_000;

/**
 * Enforces workers' limits and collects what has no owner: paused longer than the paused TTL or past
 * the hard TTL -> terminated; a sandbox carrying our labels without a live record -> removed; a
 * live record whose sandbox vanished -> `gone`. Runs on start, on an interval (`job`, run by the
 * scheduler) and on shutdown, so containers and processes never pile up (the seed's hang).
 */
export class WorkerSweeper {
  private running: Promise<SweepReport> | null = null;

  constructor(
    private readonly deps: {
      store: Store;
      manager: WorkerManager;
      runtimes: Partial<Record<WorkerRuntime, Runtime>>;
      logger: Logger;
      /** `WORKER_PAUSED_TTL`; a value stored on the Settings page wins. */
      pausedTtlMs: number;
      intervalMs: number;
      /** Counts the orphaned sandboxes each sweep removes (`worker_sandboxes`). */
      metrics?: Pick<Metrics, "recordGc"> | null;
    },
  ) {}

  /**
   * The first sweep of a new orchestrator process: a worker left `running` or `starting` was in
   * the middle of a turn or of its creation when the previous process died. That turn is lost, so
   * the worker is terminated (its processes and sandbox go with it) rather than left half alive.
   */
  async recoverAfterRestart(): Promise<SweepReport> {
    const interrupted = (await this.liveWorkers()).filter(
      (w) => w.state !== "paused" && !this.deps.manager.isBusy(w.id),
    );
    for (const worker of interrupted)
      await this.deps.manager.terminate(worker.id, "orchestrator restarted during its turn");
    const report = await this.sweep();
    report.terminated.unshift(
      ...interrupted.map((w) => ({ workerId: w.id, reason: "orchestrator restarted during its turn" })),
    );
    return report;
  }

  /** One sweep; concurrent calls share the sweep in progress. */
  sweep(now = Date.now()): Promise<SweepReport> {
    this.running ??= this.sweepOnce(now).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /**
   * The periodic sweep, for the scheduler: every process with the workers role sweeps its own
   * node's sandboxes, every `intervalMs`.
   */
  job(): Job {
    return {
      name: "workers.sweep",
      intervalMs: this.deps.intervalMs,
      scope: "every-process",
      run: async () => {
        await this.sweep();
      },
    };
  }

  /** Waits for a sweep in progress (the scheduler has stopped starting new ones). */
  async stop(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async sweepOnce(now: number): Promise<SweepReport> {
    const report: SweepReport = { terminated: [], orphansRemoved: [], markedGone: [] };
    const live = await this.liveWorkers();
    // Read each sweep: an admin may change it on the Settings page while workers wait paused.
    const pausedTtlMs = (await this.deps.store.settings.get("workerPausedTtlMs")) ?? this.deps.pausedTtlMs;
    const runEnded = new Map<string, Promise<RunStatus | null>>();
    for (const worker of live) {
      if (this.deps.manager.isBusy(worker.id)) continue;
      const reason = this.expiry(worker, now, pausedTtlMs) ?? (await this.runEnded(worker, runEnded));
      if (reason) {
        await this.deps.manager.terminate(worker.id, reason);
        report.terminated.push({ workerId: worker.id, reason });
      }
    }
    const stillLive = new Map((await this.liveWorkers()).map((w) => [w.id, w]));
    for (const [kind, runtime] of Object.entries(this.deps.runtimes) as [WorkerRuntime, Runtime][]) {
      const found = new Set<string>();
      for (const info of await runtime.list()) {
        found.add(info.workerId);
        const owner = stillLive.get(info.workerId);
        if (owner && owner.runtime === kind) continue;
        if (await this.isStillOwned(info.workerId, kind)) continue;
        await runtime.remove(info);
        report.orphansRemoved.push(info.workerId);
      }
      for (const worker of stillLive.values()) {
        if (worker.runtime !== kind || found.has(worker.id) || this.deps.manager.isBusy(worker.id)) continue;
        if (worker.state === "starting" && now - Date.parse(worker.createdAt) < STARTING_GRACE_MS) continue;
        await this.deps.manager.markGone(worker.id);
        report.markedGone.push(worker.id);
      }
    }
    this.deps.metrics?.recordGc("worker_sandboxes", report.orphansRemoved.length);
    if (report.terminated.length + report.orphansRemoved.length + report.markedGone.length > 0) {
      this.deps.logger.info(report, "worker sweep");
    }
    return report;
  }

  private expiry(worker: Worker, now: number, pausedTtlMs: number): string | null {
    if (worker.expiresAt && Date.parse(worker.expiresAt) <= now) return "hard TTL reached";
    if (worker.state === "paused" && now - Date.parse(worker.lastActivityAt) >= pausedTtlMs)
      return "paused too long";
    return null;
  }

  /**
   * Why a worker outlived its run: the engine ends a run's workers as it ends the run, but one it
   * could not reach then (its node restarting, the engine killed between the two) would otherwise
   * wait out the paused TTL. Each run is read once per sweep.
   */
  private async runEnded(
    worker: Worker,
    seen: Map<string, Promise<RunStatus | null>>,
  ): Promise<string | null> {
    const runId = worker.runId;
    if (!runId) return null;
    let status = seen.get(runId);
    if (!status) {
      status = this.deps.store.runs
        .get(runId)
        .then((run) => run.status)
        .catch(nullIfNotFound);
      seen.set(runId, status);
    }
    const found = await status;
    return found !== null && RunStatusMachine.isTerminal(found) ? `its run ended ${found}` : null;
  }

  /**
   * Whether a sandbox the sweep found without a live owner has one after all, read again just
   * before it is removed: the live workers are read one state at a time, so a worker paused
   * when the running ones were read and resumed before the paused ones were (a stage's next
   * command) is in neither list; one being made, or in a turn or command here, is busy.
   */
  private async isStillOwned(workerId: string, kind: WorkerRuntime): Promise<boolean> {
    if (this.deps.manager.isBusy(workerId)) return true;
    const worker = await this.deps.store.workers.get(workerId).catch(nullIfNotFound);
    return (
      worker !== null &&
      LIVE.includes(worker.state) &&
      worker.runtime === kind &&
      nodeOf(worker) === this.deps.manager.node
    );
  }

  /** Live workers of this node only: another node's sandboxes are not in this node's runtimes. */
  private async liveWorkers(): Promise<Worker[]> {
    const all: Worker[] = [];
    for (const state of LIVE) {
      for (let offset = 0; ; offset += 200) {
        const page = await this.deps.store.workers.list({ state, limit: 200, offset });
        all.push(...page.items.filter((w) => nodeOf(w) === this.deps.manager.node));
        if (page.items.length < 200) break;
      }
    }
    return all;
  }
}
