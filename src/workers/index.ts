export type { AgentBackend, Invocation, InvocationOutput, TurnRequest } from "./backend.js";
export { type SweepReport, WorkerSweeper } from "./lifecycle.js";
export { type LoopOutcome, WorkerManager, type WorkerManagerDeps } from "./manager.js";
export { estimateCostUsd, PRICE_TABLE } from "./pricing.js";
export * from "./runtime.js";
export { decideSession, type SessionLimits } from "./sessions.js";
export { CreateWorkerSpec, SendOptions } from "./spec.js";
export type { StreamEvent } from "./turn.js";
