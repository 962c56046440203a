import type { RuntimeSettings } from "../contracts/index.js";
import { PROCESS_VARS } from "./process.js";
import { Duration } from "./values.js";
import { WORKER_VARS } from "./workers.js";

/** Where the defaults of the run-time settings come from: the loaded environment's values. */
export interface RuntimeSettingSources {
  workers: { pausedTtlMs: number; hardTtlMs: number; sessionMaxAgeMs: number };
  web: { sessionTtlMs: number };
}

/**
 * The environment's values of the settings an admin may change at run time (`RuntimeSettings`);
 * a stored value wins over them. Without a loaded config, the variables' documented defaults.
 */
export function runtimeSettingDefaults(config?: RuntimeSettingSources): RuntimeSettings {
  if (config) {
    return {
      workerPausedTtlMs: config.workers.pausedTtlMs,
      workerHardTtlMs: config.workers.hardTtlMs,
      agentSessionMaxAgeMs: config.workers.sessionMaxAgeMs,
      webSessionTtlMs: config.web.sessionTtlMs,
    };
  }
  return {
    workerPausedTtlMs: Duration.parse(WORKER_VARS.WORKER_PAUSED_TTL.default),
    workerHardTtlMs: Duration.parse(WORKER_VARS.WORKER_HARD_TTL.default),
    agentSessionMaxAgeMs: Duration.parse(WORKER_VARS.SESSION_MAX_AGE.default),
    webSessionTtlMs: Duration.parse(PROCESS_VARS.WEB_SESSION_TTL.default),
  };
}
