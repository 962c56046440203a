export { estimateCostUsd, PRICE_TABLE } from "../llm/index.js";
export { recordUsage } from "./accounting.js";
export type { AgentBackend, Invocation, InvocationOutput, TurnRequest } from "./backend.js";
export { ClaudeCodeBackend } from "./backends/claude-code.js";
export { CodexBackend } from "./backends/codex.js";
export { FactoryDroidBackend } from "./backends/factory-droid.js";
export { ScriptedBackend } from "./backends/scripted.js";
export { AgentScript } from "./backends/scripted-script.js";
export { WORKER_TOOL_GROUPS } from "./credentials.js";
export {
  collectNpmCaches,
  collectRunWorkspaces,
  npmCachesGcJob,
  runWorkspacesGcJob,
  workerRecordsGcJob,
} from "./gc.js";
export { type SweepReport, WorkerSweeper } from "./lifecycle.js";
export { LABEL_NODE, type LoopOutcome, nodeOf, WorkerManager, type WorkerManagerDeps } from "./manager.js";
export {
  type NodeLiveness,
  type NodeLossKind,
  WorkerNodeLostError,
} from "./node-liveness.js";
export {
  BusWorkerClient,
  type ClientLiveness,
  nodeRpcStream,
  serveWorkerRpc,
  WORKER_RPC_STREAM,
} from "./rpc.js";
export * from "./runtime.js";
export { DockerRuntime, dockerFromEnv } from "./runtimes/docker-runtime.js";
export { ProcessRuntime } from "./runtimes/process-runtime.js";
export { CACHES_DIR } from "./runtimes/project-cache.js";
export { type RunCommandOptions, runCommand } from "./runtimes/run-command.js";
export {
  buildWorkerImage,
  findHostNode,
  HOST_CA_BUNDLE,
  WORKER_DOCKERFILE_DIR,
} from "./runtimes/worker-image.js";
export type { WorkerService, WorkerStatus } from "./service.js";
export { decideSession, type SessionLimits } from "./sessions.js";
export {
  CreateWorkerSpec,
  EXEC_OUTPUT_LIMIT_BYTES,
  ExecOptions,
  type ExecOutcome,
  SendOptions,
} from "./spec.js";
export type { StreamEvent } from "./turn.js";
