/**
 * The composition root's face: starting an orchestrator (all roles, or some) and the demo.
 */
export { buildChatRole } from "./chat-role.js";
export { DEMO_BRIEF, startDemo } from "./demo.js";
export { developerToolReference, type EngineRole, startEngineRole } from "./engine-role.js";
export { ephemeralInstanceId, InstanceHeartbeat, workersNodeId } from "./instance.js";
export { CONSUMED_BUS_STREAMS, deployedServices, startMetricsFeeds } from "./metrics.js";
export { adminTokenFile, type Orchestrator, ROLES, type Role, startOrchestrator } from "./orchestrator.js";
export { redactorFor } from "./redaction.js";
export { type ClusterJobDeps, clusterJobs, startSchedulerRole } from "./scheduler-role.js";
export { startWorkersRole, type WorkersRole } from "./workers-role.js";
