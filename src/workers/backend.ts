import type { AgentResult, AgentBackend as BackendName } from "../contracts/index.js";
import type { BuiltinTool } from "./role-tools.js";

/** One headless turn as a backend sees it. */
export interface TurnRequest {
  prompt: string;
  /** Continue this agent session (`--resume`); null starts a new one. */
  resumeSessionId: string | null;
  /** Id to give a new session where the CLI accepts one (`--session-id`). */
  newSessionId: string | null;
  model: string;
  systemPrompt: string | null;
  maxTurns: number;
  budgetUsd: number;
  /** Path (inside the sandbox) of an MCP config file exposing the orchestrator tools. */
  mcpConfigPath: string | null;
  workspace: string;
  /**
   * The CLI's own tools this turn is offered (`ROLE_BUILTIN_TOOLS` of the worker's role); null or
   * absent leaves the CLI's default set. Backends whose CLI cannot narrow its tools ignore it.
   */
  builtinTools?: readonly BuiltinTool[] | null;
}

/** A command to run in the sandbox for one turn: argument array, extra environment, stdin. */
export interface Invocation {
  argv: string[];
  env: Record<string, string>;
  stdin?: string;
}

/** What came back from running an invocation. */
export interface InvocationOutput {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
}

/**
 * An agent CLI: how to build its command line and how to read its output. Both are pure, so each
 * backend is tested against recorded output; the WorkerManager runs the command in a runtime.
 * `parse` never throws: every failure becomes an `AgentResult` with `ok: false` and an error.
 */
export interface AgentBackend {
  readonly name: BackendName;
  invocation(turn: TurnRequest): Invocation;
  /** Interprets one stdout line while the turn runs (progress events), or null when it is noise. */
  streamEvent?(line: string): { kind: string; text: string } | null;
  parse(output: InvocationOutput, turn: TurnRequest): Omit<AgentResult, "report">;
}
