import type { Run } from "../contracts/index.js";
import type { Logger } from "../observability/index.js";

/**
 * The logger of one run: every line written while the run executes (its runner, its graph's steps
 * and what they call with it) carries the run's id, project and kind, so one run's story can be
 * read out of a shared log. The one place such a logger is made.
 */
export function runLogger(logger: Logger, run: Pick<Run, "id" | "projectId" | "kind">): Logger {
  return logger.child({ runId: run.id, projectId: run.projectId, runKind: run.kind });
}
