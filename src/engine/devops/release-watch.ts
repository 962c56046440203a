import type { LocalDriver } from "../../deploy/drivers/local/index.js";
import type { DevopsDeps } from "./deps.js";
import { adoptLocalReleases, logAdoptionFailure } from "./reconcile.js";

/**
 * The engine's periodic look at local release ownership, when engines share a data directory:
 * first this engine's half of a handover (it stops its copy of every project another engine took
 * and says so in the store), then adoption of every release whose owner is gone (lease expired,
 * restarted, or stopped and gave it up). So the releases of an engine killed without a chance to
 * stop come back on a surviving engine once its lease expires. A failure to adopt is logged once
 * per project and reason, not at every pass.
 */
export class LocalReleaseWatch {
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;
  private isStopped = false;
  /** `<projectId> <release>: <reason>` of failures already logged. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly opts: {
      deps: DevopsDeps;
      driver: LocalDriver;
      /** Where the `current.json` records live (the driver's root). */
      root: string;
      intervalMs: number;
    },
  ) {}

  start(): void {
    this.opts.deps.logger.info(
      { intervalMs: this.opts.intervalMs },
      "watching local release ownership: yielding taken releases, adopting those of gone engines",
    );
    this.timer = setInterval(() => {
      if (this.pass || this.isStopped) return;
      this.pass = this.check().finally(() => {
        this.pass = null;
      });
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** One pass: yield what others took, adopt what nobody holds. Errors are logged, never thrown. */
  async check(): Promise<void> {
    const { deps, driver, root } = this.opts;
    try {
      await driver.yieldLost();
      if (this.isStopped) return;
      const report = await adoptLocalReleases(deps, root);
      if (report.adopted.length > 0) {
        deps.logger.info({ projects: report.adopted }, "adopted the releases of an engine that is gone");
      }
      const failing = new Set<string>();
      for (const failure of report.failed) {
        const key = `${failure.projectId} ${failure.release}: ${failure.reason}`;
        failing.add(key);
        if (!this.reported.has(key)) logAdoptionFailure(deps, failure);
      }
      // Forget what no longer fails, so a failure that comes back is logged again.
      this.reported.clear();
      for (const key of failing) this.reported.add(key);
    } catch (error) {
      deps.logger.warn(
        { err: error },
        "could not check local release ownership: trying again at the next pass",
      );
    }
  }

  /** Stops the passes and waits for one under way. */
  async stop(): Promise<void> {
    this.isStopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pass;
  }
}
