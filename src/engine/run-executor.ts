import { randomUUID } from "node:crypto";
import type { Bus, Subscription } from "../bus/index.js";
import { AppError, type Run, type RunKind, RunStatusMachine, runStream } from "../contracts/index.js";
import { failSpan, inSpan, type Logger, type TraceSpan } from "../observability/index.js";
import type { Job } from "../scheduler/index.js";
import type { Store } from "../store/index.js";
import { runLogger } from "./run-logger.js";

/** How runs of one kind are picked up: bus trigger and lease timing. */
export interface RunExecutorOptions {
  kind: RunKind;
  store: Store;
  bus: Bus;
  logger: Logger;
  /**
   * Executes one run to a terminal state (or throws); called only while this process holds the
   * lease. `signal` aborts when the process stops, when the run was ended elsewhere (cancelled),
   * or when another engine took the lease (this process stalled past it):
   * the run must then be left as it is (its checkpoint resumes it elsewhere), never marked failed. `logger` is the run's own (`runLogger`).
   */
  execute(runId: string, signal: AbortSignal, logger: Logger): Promise<void>;
  /** A lease not renewed within this is free for another engine process. */
  leaseTtlMs: number;
  /** Runs executed at once by this process. */
  concurrency?: number;
}

/** Publishes the trigger for a queued run. The database row is the truth; this only wakes an engine. */
export async function triggerRun(bus: Bus, kind: RunKind, runId: string): Promise<void> {
  await bus.publish(runStream(kind), { type: `${kind}.run`, payload: { runId }, correlationId: runId });
}

/** The run's outcome on its span: status, stage, tokens and cost, and its error's code when it failed. */
function markOutcome(span: TraceSpan, run: Run): void {
  span.setAttributes({
    "run.status": run.status,
    "run.stage": run.stage ?? "",
    "run.iteration": run.iteration,
    "run.tokens_in": run.tokensIn,
    "run.tokens_out": run.tokensOut,
    "run.cost_usd": run.costUsd,
  });
  // A blocked run waits for a person: its reason is said, but only a failed one is an error.
  if (run.error && run.status === "failed") failSpan(span, run.error.code);
  else if (run.error) span.setAttribute("run.error_code", run.error.code);
}

/**
 * Executes runs of one kind under a lease in the store (principle 2: the database decides who runs
 * what, the bus only wakes us up). A trigger is acknowledged as soon as the run is leased; the lease
 * is renewed while the run executes. A trigger that finds every slot taken is acknowledged all
 * the same: the run stays queued in the store, and whichever engine has a free slot first takes it,
 * from its own scan (`recoveryJob`, on every engine) or when one of its runs ends. The same scan
 * finds runs whose process died (lease expired) and resumes them from their checkpoint, so a killed
 * engine loses no run.
 */
export class RunExecutor {
  private readonly owner = `engine-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly active = new Map<string, Promise<void>>();
  private subscription: Subscription | null = null;
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
  }

  /**
   * The scheduled scan of this kind, on every engine process (at start, then every `intervalMs`):
   * each fills its own free slots, so runs queued while every engine was busy, or left by a dead
   * one, are taken by whoever has room; the lease keeps two engines from taking the same run.
   */
  recoveryJob(intervalMs: number): Job {
    return {
      name: `runs.recover-${this.opts.kind}`,
      intervalMs,
      scope: "every-process",
      runAtStart: true,
      run: () => this.recover(),
    };
  }

  /**
   * Leases and starts runs of this kind that nobody executes, oldest first, while a slot is free;
   * never `except` (the run that just ended here: it waits for the next scan).
   */
  async recover(except?: string): Promise<void> {
    if (this.stopping) return;
    try {
      const free = this.slots - this.active.size;
      if (free <= 0) return;
      // Twice the free slots: another engine may lease some of them between our read and our claim.
      const runs = await this.opts.store.runs.listClaimable(this.opts.kind, free * 2);
      for (const run of runs) {
        if (run.id === except) continue;
        if (this.stopping || this.active.size >= this.slots) break;
        await this.tryRun(run.id);
      }
    } catch (error) {
      this.opts.logger.error({ err: error }, "run recovery scan failed");
    }
  }

  private get slots(): number {
    return this.opts.concurrency ?? 4;
  }

  /** Starts the run in the background when this process can lease it; false when it cannot. */
  async tryRun(runId: string): Promise<boolean> {
    if (this.stopping || this.active.has(runId)) return false;
    if (this.active.size >= this.slots) return false;
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
    // Until the run is read: its id and kind; then its project too (`runLogger`).
    let log = this.opts.logger.child({ runId, runKind: this.opts.kind });
    // Aborts when the process stops, when someone else ends the run (an admin cancels it), or when
    // another engine took its lease.
    const stopRun = new AbortController();
    const onStop = () => stopRun.abort(this.abort.signal.reason);
    this.abort.signal.addEventListener("abort", onStop, { once: true });
    const renew = setInterval(
      () => {
        this.opts.store.runs.claimLease(runId, this.owner, this.opts.leaseTtlMs).then(
          async (renewed) => {
            // The run just ended, or another engine took over after this process stalled past the lease.
            if (renewed || stopRun.signal.aborted) return;
            const run = await this.opts.store.runs.get(runId);
            if (RunStatusMachine.isTerminal(run.status)) {
              log.info({ status: run.status }, "the run was ended elsewhere: its execution stops");
              stopRun.abort(new AppError("conflict", "run_ended", `the run ended ${run.status}`));
            } else {
              // Another engine holds it now (this process stalled past the lease, e.g. while the
              // database was away): it resumes the run from the checkpoint, so this copy must stop
              // at once, or the two would work the same run and end each other's workers.
              log.warn("the run's lease went to another engine: its execution here stops");
              stopRun.abort(new AppError("conflict", "lease_lost", "another engine took over the run"));
            }
          },
          (err: unknown) => log.warn({ err }, "lease renewal failed"),
        );
      },
      Math.max(100, Math.floor(this.opts.leaseTtlMs / 3)),
    );
    renew.unref();
    // A run is a span: of the trace that asked for it when a trigger woke us, a new one on recovery.
    const work = inSpan(
      `run.${this.opts.kind}`,
      { "run.id": runId, "run.kind": this.opts.kind },
      async (span) => {
        let executed = false;
        try {
          const run = await this.opts.store.runs.get(runId);
          span.setAttribute("project.id", run.projectId);
          log = runLogger(this.opts.logger, run);
          await this.opts.execute(runId, stopRun.signal, log);
          executed = true;
          markOutcome(span, await this.opts.store.runs.get(runId));
        } catch (error) {
          failSpan(span, "run_execution_failed");
          log.error({ err: error }, "run execution failed");
        } finally {
          clearInterval(renew);
          this.abort.signal.removeEventListener("abort", onStop);
          this.active.delete(runId);
          await this.opts.store.runs
            .releaseLease(runId, this.owner)
            .catch((err: unknown) => log.warn({ err }, "lease release failed"));
          // A slot is free: take the next queued run now rather than at the next scan. Only after a
          // clean end: a run whose execution threw (the database away, say) is left to the periodic
          // scan, and so is everything else then, or a failing run would be retried in a tight loop.
          if (executed) void this.recover(runId);
        }
      },
    );
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
    await this.subscription?.stop(deadlineMs);
    this.abort.abort(new AppError("unavailable", "engine_stopping", "the engine is stopping"));
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
    await Promise.race([Promise.allSettled([...this.active.values()]), deadline]);
  }
}
