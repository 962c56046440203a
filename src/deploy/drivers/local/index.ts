/** The `local` deploy driver: releases built from commits and run as supervised processes here. */
export {
  BUILD_TIMEOUT_MS,
  INSTALL_TIMEOUT_MS,
  LocalDriver,
  type LocalDriverOptions,
  type LocalRunning,
  type RecordedRun,
} from "./local-driver.js";
export {
  DEFAULT_RESTART_POLICY,
  type RestartPolicy,
  restartDelayMs,
  type SupervisedState,
} from "./process-supervisor.js";
