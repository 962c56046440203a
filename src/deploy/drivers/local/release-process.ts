import type { Argv } from "../../../contracts/index.js";
import type { Logger } from "../../../observability/index.js";
import type { Release } from "../../driver.js";
import { hostPath } from "./child-command.js";
import { type ProjectLayout, RECORD_FILE, type RunRecord, writeRecord } from "./layout.js";
import { type RestartPolicy, SupervisedProcess } from "./process-supervisor.js";

/** Output lines of a running release kept in memory for `logs`. */
const OUTPUT_LINES_KEPT = 2_000;

/**
 * The supervisor of one release's process (not started yet): its output goes to the release's log,
 * and every spawn (the first and each restart) rewrites `current.json` with the new pid before
 * `onPid` hears of it, so a restarted orchestrator always finds the process to end.
 */
export function superviseRelease(opts: {
  layout: ProjectLayout;
  release: Release;
  argv: Argv;
  /** The resolved environment; PATH is ours. */
  env: Record<string, string>;
  port: number | null;
  policy: RestartPolicy;
  stopGraceMs: number;
  logger: Logger;
  onPid?: (pid: number) => void;
}): SupervisedProcess {
  const { layout, release, logger } = opts;
  const startedAt = new Date().toISOString();
  const record = (pid: number): RunRecord => ({
    release: release.id,
    commit: release.commit,
    port: opts.port,
    startedAt,
    pid,
  });
  return new SupervisedProcess({
    argv: opts.argv,
    cwd: release.location,
    env: { ...opts.env, PATH: hostPath() },
    logFile: layout.logFile(release.id),
    policy: opts.policy,
    stopGraceMs: opts.stopGraceMs,
    outputLines: OUTPUT_LINES_KEPT,
    logger,
    onSpawn: (pid) => {
      try {
        writeRecord(layout.recordFile, record(pid));
      } catch (error) {
        logger.error({ err: error }, `cannot update ${RECORD_FILE}`);
      }
      opts.onPid?.(pid);
    },
  });
}
