import type { Logger } from "../../../observability/index.js";
import type { RecoveryContext, RecoveryReport } from "../../driver.js";
import { readRecordedRuns } from "./adoption.js";
import type { LocalDriver } from "./local-driver.js";

type Failure = RecoveryReport["failed"][number] & { error: unknown };

/**
 * The local driver's recovery: at start, and then at every maintenance pass, it starts again under
 * this engine every release that should run and that nobody supervises (those of this
 * orchestrator's previous life, or of an engine that is gone); each pass first yields what another
 * engine took over. A failure to adopt is logged once per project and reason, not at every pass.
 */
export class LocalRecovery {
  /** `<projectId> <release>: <reason>` of failures already logged. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly driver: LocalDriver,
    private readonly root: string,
    private readonly logger: Logger,
  ) {}

  /** Brings back what ran before this orchestrator (or a gone engine) stopped; logs every failure. */
  async recover(context: RecoveryContext): Promise<RecoveryReport> {
    const { recovered, failed } = await this.adoptAll(context);
    for (const failure of failed) this.logFailure(failure);
    if (recovered.length > 0) this.logger.info({ projects: recovered }, "restored running releases");
    return { recovered, failed: failed.map(({ error: _error, ...rest }) => rest) };
  }

  /** One pass: yield what others took, adopt what nobody holds. Errors are logged, never thrown. */
  async maintain(context: RecoveryContext): Promise<void> {
    try {
      await this.driver.yieldLost();
      const { recovered, failed } = await this.adoptAll(context);
      if (recovered.length > 0) {
        this.logger.info({ projects: recovered }, "adopted the releases of an engine that is gone");
      }
      const failing = new Set<string>();
      for (const failure of failed) {
        const key = `${failure.projectId} ${failure.release}: ${failure.reason}`;
        failing.add(key);
        if (!this.reported.has(key)) this.logFailure(failure);
      }
      // Forget what no longer fails, so a failure that comes back is logged again.
      this.reported.clear();
      for (const key of failing) this.reported.add(key);
    } catch (error) {
      this.logger.warn(
        { err: error },
        "could not check local release ownership: trying again at the next pass",
      );
    }
  }

  /**
   * Every adoptable release, one at a time: only one that is still the project's serving release
   * is adopted, on its recorded port, with its environment resolved afresh. Never throws for one
   * project: its failure is in the result.
   */
  private async adoptAll(context: RecoveryContext): Promise<{ recovered: string[]; failed: Failure[] }> {
    const recovered: string[] = [];
    const failed: Failure[] = [];
    for (const candidate of await this.driver.adoptable(await readRecordedRuns(this.root))) {
      const { projectId, release: releaseId, port } = candidate;
      try {
        if ((await context.servingRelease(projectId)) !== releaseId) continue;
        const release = (await this.driver.releases(projectId, null)).find((r) => r.id === releaseId);
        if (!release) {
          const reason = "the release is not built in this data directory";
          failed.push({ projectId, release: releaseId, reason, missing: [], error: null });
          continue;
        }
        const resolved = await context.runSpecFor(projectId, release, port);
        if (!resolved.ok) {
          const { missing } = resolved;
          failed.push({ projectId, release: releaseId, reason: "settings missing", missing, error: null });
          continue;
        }
        if (await this.driver.adopt(resolved.spec, candidate)) recovered.push(projectId);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        failed.push({ projectId, release: releaseId, reason, missing: [], error });
      }
    }
    return { recovered, failed };
  }

  private logFailure(failure: Failure): void {
    const { projectId, release } = failure;
    if (failure.missing.length > 0) {
      this.logger.warn(
        { projectId, release, missing: failure.missing },
        "cannot restore a release: settings missing",
      );
    } else {
      this.logger.error(
        { err: failure.error, projectId, release },
        `cannot restore a release: ${failure.reason}`,
      );
    }
  }
}
