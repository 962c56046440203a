/**
 * The composition root's face: starting an orchestrator (all roles, or some) and the demo. The
 * roles' own modules load only in a process that takes the role (see `startOrchestrator`).
 */
export { DEMO_BRIEF, startDemo } from "./demo.js";
export { startMetricsFeeds } from "./metrics.js";
export { adminTokenFile, type Orchestrator, ROLES, type Role, startOrchestrator } from "./orchestrator.js";
export { redactorFor } from "./redaction.js";
export { developerToolReference } from "./tool-reference.js";
