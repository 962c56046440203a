import type { AgentResult, AgentBackend as BackendName, Worker, WorkerRuntime } from "../contracts/index.js";
import type { RunJournal } from "../events/index.js";
import type { Logger, Metrics, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import type { AgentBackend } from "./backend.js";
import type { Runtime } from "./runtime.js";
import type { SessionLimits } from "./sessions.js";

/** What a `WorkerManager` is built from: the composition root picks each part. */
export interface WorkerManagerDeps {
  store: Store;
  /** Where workers' state changes and streamed progress are told as run events. */
  journal: RunJournal;
  runtimes: Partial<Record<WorkerRuntime, Runtime>>;
  backends: Partial<Record<BackendName, AgentBackend>>;
  logger: Logger;
  metrics: Pick<Metrics, "agentTokens" | "agentCostUsd">;
  /** How sandboxes reach the orchestrator API (tools, MCP). */
  apiUrl: string;
  /** Where the orchestrator package lives (bound read-only into sandboxes: CLI, MCP server, agents). */
  packageRoot: string;
  /** Environment every agent CLI gets on top of the allow-list (never a model key). */
  agentEnv: Record<string, string>;
  /**
   * Agents call models through the API's model gateway (`/llm/...`) with their worker token, which
   * meters every call; their turns' usage is then read from the gateway's records, not the CLI's.
   */
  modelGateway: boolean;
  defaultRuntime: WorkerRuntime;
  session: SessionLimits;
  hardTtlMs: number;
  /**
   * The node this manager runs on (`WORKERS_NODE`): recorded on each worker it creates, so calls
   * about the worker are routed here and other nodes' sweepers leave it alone. Default `local`.
   */
  node?: string;
  /**
   * Masks secrets in agents' output (the process's redactor): the output kept for `logs` and the
   * progress events, redacted before they are cut to size. The store redacts what it writes anyway.
   */
  redactor?: SecretRedactor;
}

/** The label naming the node whose runtime holds a worker's sandbox. */
export const LABEL_NODE = "orchestrator.node";

/** The node holding `worker` (workers recorded before nodes existed belong to `local`). */
export function nodeOf(worker: Pick<Worker, "labels">): string {
  return worker.labels[LABEL_NODE] ?? "local";
}

/** The outcome of `runUntilComplete`: the last turn and how many it took. */
export interface LoopOutcome {
  result: AgentResult;
  iterations: number;
  isComplete: boolean;
}
