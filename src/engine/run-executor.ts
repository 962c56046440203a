import { randomUUID } from "node:crypto";
import type { Bus, Subscription } from "../bus/index.js";
import { AppError, type RunKind } from "../contracts/index.js";
import type { Logger } from "../observability/index.js";
import type { Store } from "../store/index.js";

/** How runs of one kind are picked up: bus trigger, lease timing, recovery interval. */
export interface RunExecutorOptions {
  kind: RunKind;
  store: Store;
  bus: Bus;
  logger: Logger;
  /**
   * Executes one run to a terminal state (or throws); called only while this process holds the
   * lease. `signal` aborts when the process stops: the run must then be left as it is (its
   * checkpoint resumes it elsewhere), never marked failed.
   */
  execute(runId: string, signal: AbortSignal): Promise<void>;
  /** A lease not renewed within this is free for another engine process. */
  leaseTtlMs: number;
  /** How often runs without a live lease (their process died) are looked for. */
  recoveryIntervalMs: number;
  /** Runs executed at once by this process. */
  concurrency?: number;
}

/** The bus stream that carries "run this run" triggers for a kind. */
export function runStream(kind: RunKind): string {
  return `engine.${kind}`;
}

/** Publishes the trigger for a queued run. The database row is the truth; this only wakes an engine. */
export async function triggerRun(bus: Bus, kind: RunKind, runId: string): Promise<void> {
  await bus.publish(runStream(kind), { type: `${kind}.run`, payload: { runId }, correlationId: runId });
}

/**
 * Executes runs of one kind under a lease in the store (principle 2: the database decides who runs
 * what, the bus only wakes us up). A trigger is acknowledged as soon as the run is leased; the lease
 * is renewed while the run executes. Runs whose process died (lease expired) are found by a periodic
 * recovery scan and resumed from their checkpoint, so a killed engine loses no run.
 */
export class RunExecutor {
  private readonly owner = `engine-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly active = new Map<string, Promise<void>>();
  private subscription: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly abort = new AbortController();

  constructor(private readonly opts: RunExecutorOptions) {}

  start(): void {
    this.subscription = this.opts.bus.consume(
      runStream(this.opts.kind),
      { group: "engine", consumer: this.owner, maxDeliveries: 5, concurrency: 8 },
      async ({ envelope }) => {
        const runId = (envelope.payload as { runId?: unknown } | null)?.runId;
        if (typeof runId !== "string") {
          throw new AppError("invalid", "invalid_input", "a run trigger needs a runId", {
            details: [{ path: "payload.runId", message: "required" }],
          });
        }
        await this.tryRun(runId);
      },
    );
    void this.recover();
    this.timer = setInterval(() => void this.recover(), this.opts.recoveryIntervalMs);
    this.timer.unref();
  }

  /** Leases and starts every run of this kind that nobody executes. */
  async recover(): Promise<void> {
    if (this.stopping) return;
    try {
      const runs = await this.opts.store.runs.listClaimable(this.opts.kind, 50);
      for (const run of runs) await this.tryRun(run.id);
    } catch (error) {
      this.opts.logger.error({ err: error }, "run recovery scan failed");
    }
  }

  /** Starts the run in the background when this process can lease it; false when it cannot. */
  async tryRun(runId: string): Promise<boolean> {
    if (this.stopping || this.active.has(runId)) return false;
    if (this.active.size >= (this.opts.concurrency ?? 4)) return false;
    // Taken before the lease query: a second trigger for the same run arriving meanwhile must not
    // pass (the lease is ours either way, so the store alone cannot tell the two apart).
    let claimed!: () => void;
    this.active.set(runId, new Promise<void>((resolve) => (claimed = resolve)));
    let held = false;
    try {
      held = await this.opts.store.runs.claimLease(runId, this.owner, this.opts.leaseTtlMs);
    } finally {
      if (!held) {
        this.active.delete(runId);
        claimed();
      }
    }
    if (!held) return false;
    const renew = setInterval(
      () => {
        this.opts.store.runs.claimLease(runId, this.owner, this.opts.leaseTtlMs).then(
          (renewed) => {
            // The run just ended, or another engine took over after this process stalled past the lease.
            if (!renewed) this.opts.logger.info({ runId }, "lease not renewed");
          },
          (err: unknown) => this.opts.logger.warn({ err, runId }, "lease renewal failed"),
        );
      },
      Math.max(100, Math.floor(this.opts.leaseTtlMs / 3)),
    );
    renew.unref();
    const work = (async () => {
      try {
        await this.opts.execute(runId, this.abort.signal);
      } catch (error) {
        this.opts.logger.error({ err: error, runId }, "run execution failed");
      } finally {
        clearInterval(renew);
        this.active.delete(runId);
        await this.opts.store.runs
          .releaseLease(runId, this.owner)
          .catch((err: unknown) => this.opts.logger.warn({ err, runId }, "lease release failed"));
      }
    })();
    this.active.set(runId, work);
    claimed();
    return true;
  }

  /** Whether this process is executing the run now. */
  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  /**
   * Stops taking runs and waits for those in flight up to the deadline. A run still executing then
   * keeps its checkpoint; its lease expires and the next engine resumes it.
   */
  async stop(deadlineMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.subscription?.stop(deadlineMs);
    this.abort.abort(new AppError("unavailable", "engine_stopping", "the engine is stopping"));
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
    await Promise.race([Promise.allSettled([...this.active.values()]), deadline]);
  }
}
