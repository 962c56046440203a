import { readFileSync } from "node:fs";
import { AgentResult } from "../../src/contracts/index.js";
import type { AgentBackend, InvocationOutput, TurnRequest } from "../../src/workers/index.js";

/** What an agent backend's tests need: turns, process outputs, recorded fixtures, a checked parse. */

const TURN: TurnRequest = {
  prompt: "Implement TASK.md",
  resumeSessionId: null,
  newSessionId: null,
  model: "claude-sonnet-4-5",
  systemPrompt: null,
  maxTurns: 30,
  budgetUsd: 2,
  mcpConfigPath: null,
  workspace: "/workspace",
};

/** A maker of turn requests with this suite's defaults on top of plain ones. */
export function turnFactory(base: Partial<TurnRequest> = {}) {
  return (over: Partial<TurnRequest> = {}): TurnRequest => ({ ...TURN, ...base, ...over });
}

/** A maker of finished invocations (exit 0, nothing on stderr) with this suite's defaults. */
export function outputFactory(base: Partial<InvocationOutput> = {}) {
  return (stdout: string, over: Partial<InvocationOutput> = {}): InvocationOutput => ({
    stdout,
    stderr: "",
    exitCode: 0,
    signal: null,
    timedOut: false,
    durationMs: 1000,
    ...base,
    ...over,
  });
}

/** Reads `src/workers/backends/fixtures/<backend>/<name>.jsonl`. */
export function fixtureReader(backend: string) {
  return (name: string): string =>
    readFileSync(
      new URL(`../../src/workers/backends/fixtures/${backend}/${name}.jsonl`, import.meta.url),
      "utf8",
    );
}

/** `backend.parse`, failing the test when the result breaks the AgentResult contract. */
export function checkedParse(backend: AgentBackend, defaultTurn: () => TurnRequest) {
  return (output: InvocationOutput, turn: TurnRequest = defaultTurn()) => {
    const result = backend.parse(output, turn);
    AgentResult.parse({ ...result, report: null });
    return result;
  };
}
