/** The `local` deploy driver: releases built from commits and run as supervised processes here. */
export type { AdoptCandidate, RecordedRun } from "./adoption.js";
export { buildEnv, hostPath } from "./child-command.js";
export { BUILD_TIMEOUT_MS, INSTALL_TIMEOUT_MS, LocalDriver } from "./local-driver.js";
export type { LocalDriverOptions, LocalRunning } from "./options.js";
export { ReleaseOwnership, type ReleaseOwnershipOptions, type Taken } from "./ownership.js";
export {
  DEFAULT_RESTART_POLICY,
  type RestartPolicy,
  restartDelayMs,
  type SupervisedState,
} from "./process-supervisor.js";
