/** The devops pipeline: allocate -> environment/readiness -> build -> start -> health gate -> (rollback) -> record, durable. */
export type { BotProbe, DevopsDeps } from "./deps.js";
export { buildDevopsGraph } from "./graph.js";
export { localServer } from "./helpers.js";
export { healthMonitorJob, type MonitorDeps } from "./monitor.js";
export { decide, type MonitorObservation, type MonitorPolicy, type MonitorStep } from "./monitor-decision.js";
export { driverMaintenanceJob, recoverReleases, recoveryContext } from "./recovery.js";
export { deployRunOf, latestGreenCommit, requestDeploy, resumeBlockedDeploy } from "./request.js";
export { DevopsRunner } from "./runner.js";
export type { DevopsStateValue } from "./state.js";
