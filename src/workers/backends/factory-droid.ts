import type { AgentResult, StopReason, TokenCounts } from "../../contracts/index.js";
import { estimateCostUsd } from "../../llm/index.js";
import type { AgentBackend, Invocation, InvocationOutput, TurnRequest } from "../backend.js";
import { type Json, parseJsonLine, processFailure, tail } from "./cli-output.js";

/**
 * Factory's Droid CLI in headless mode: `droid exec -o stream-json` prints one JSON event per line
 * (`system` init, `message`, `tool_call`, `tool_result`, `error`, and a final `completion` with
 * `finalText`, `numTurns`, `durationMs`, `session_id`); `-o json` prints one `result` object
 * (`is_error`, `duration_ms`, `num_turns`, `result`, `session_id`). Both are read. Droid documents
 * no token usage: when an event carries `usage` it is used, otherwise usage is zero and the cost is
 * "unknown".
 */

/** Droid's autonomy tiers: `low` edits files, `medium` adds installs, builds and local git, `high` adds `git push`. */
export type DroidAutoLevel = "low" | "medium" | "high";

export interface FactoryDroidBackendOptions {
  /** The `droid` executable as the sandbox sees it. */
  command?: string;
  /** Defaults to `high`: a developer worker commits and pushes its work. */
  autoLevel?: DroidAutoLevel;
}

const count = (value: unknown): number =>
  typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;

const num = (value: unknown): number | null =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.floor(value) : null;

const str = (value: unknown): string | null => (typeof value === "string" ? value : null);

/** Reads a `usage` object in the Anthropic-style names Droid uses when it reports one. */
function usageOf(value: unknown): TokenCounts | null {
  if (value === null || typeof value !== "object") return null;
  const u = value as Json;
  return {
    inputTokens: count(u.input_tokens),
    outputTokens: count(u.output_tokens),
    cacheReadTokens: count(u.cache_read_input_tokens),
    cacheWriteTokens: count(u.cache_creation_input_tokens),
  };
}

/** The terminal event of a run, whichever output format produced it. */
interface Final {
  text: string;
  sessionId: string | null;
  isError: boolean;
  turns: number | null;
  durationMs: number | null;
  usage: TokenCounts | null;
}

function finalOf(event: Json): Final | null {
  if (event.type === "completion") {
    return {
      text: str(event.finalText) ?? "",
      sessionId: str(event.session_id),
      isError: event.isError === true || event.is_error === true,
      turns: num(event.numTurns),
      durationMs: num(event.durationMs),
      usage: usageOf(event.usage),
    };
  }
  if (event.type === "result") {
    return {
      text: str(event.result) ?? "",
      sessionId: str(event.session_id),
      // is_error decides, whatever the subtype says.
      isError: event.is_error === true,
      turns: num(event.num_turns),
      durationMs: num(event.duration_ms),
      usage: usageOf(event.usage),
    };
  }
  return null;
}

/** The `AgentBackend` for `droid exec`. */
export class FactoryDroidBackend implements AgentBackend {
  readonly name = "factory-droid" as const;
  private readonly command: string;
  private readonly autoLevel: DroidAutoLevel;

  constructor(options: FactoryDroidBackendOptions = {}) {
    this.command = options.command ?? "droid";
    this.autoLevel = options.autoLevel ?? "high";
  }

  /**
   * `droid exec -o stream-json --auto <level> [-m <model>] [-s <session>] --cwd <workspace>` with
   * the prompt piped on stdin (no size limit, never read as a flag). Droid takes no system prompt
   * flag in its documented set, so the system prompt leads the first prompt of a session.
   */
  invocation(turn: TurnRequest): Invocation {
    const argv = [this.command, "exec", "-o", "stream-json", "--auto", this.autoLevel];
    if (turn.model.trim() && turn.model !== "default") argv.push("-m", turn.model);
    if (turn.resumeSessionId) argv.push("-s", turn.resumeSessionId);
    argv.push("--cwd", turn.workspace);
    const prompt =
      !turn.resumeSessionId && turn.systemPrompt?.trim()
        ? `${turn.systemPrompt.trim()}\n\n---\n\n${turn.prompt}`
        : turn.prompt;
    return { argv, env: {}, stdin: prompt };
  }

  /** Progress worth showing while the turn runs: assistant text, tool calls, failures. */
  streamEvent(line: string): { kind: string; text: string } | null {
    const event = parseJsonLine(line);
    if (!event) return null;
    switch (event.type) {
      case "system":
        return { kind: "session", text: str(event.session_id) ?? "" };
      case "message":
        return event.role === "assistant" ? { kind: "message", text: str(event.text) ?? "" } : null;
      case "tool_call": {
        const params = (event.parameters ?? {}) as Json;
        const detail = str(params.command) ?? str(params.file_path) ?? str(params.path) ?? "";
        return { kind: "tool", text: `${str(event.toolName) ?? "tool"}${detail ? ` ${detail}` : ""}` };
      }
      case "tool_result":
        return event.isError === true ? { kind: "tool_error", text: String(event.value ?? "") } : null;
      case "error":
        return { kind: "error", text: str(event.message) ?? "error" };
      case "completion":
        return { kind: "completion", text: str(event.finalText) ?? "" };
      default:
        return null;
    }
  }

  /** Reads stream-json (or a single json result) into a normalized result; never throws. */
  parse(output: InvocationOutput, turn: TurnRequest): Omit<AgentResult, "report"> {
    const events: Json[] = [];
    for (const line of output.stdout.split("\n")) {
      const event = parseJsonLine(line);
      if (event) events.push(event);
    }
    // `-o json` may pretty-print its one object over several lines.
    if (events.length === 0) {
      const whole = parseJsonLine(output.stdout);
      if (whole) events.push(whole);
    }

    let sessionId: string | null = null;
    let model: string | null = null;
    let lastAssistantText = "";
    let assistantMessages = 0;
    let errorMessage: string | null = null;
    let final: Final | null = null;
    for (const event of events) {
      sessionId = str(event.session_id) ?? sessionId;
      if (event.type === "system") model = str(event.model) ?? model;
      if (event.type === "message" && event.role === "assistant") {
        assistantMessages += 1;
        lastAssistantText = str(event.text) ?? lastAssistantText;
      }
      if (event.type === "error") errorMessage = str(event.message) ?? "Droid reported an error";
      final = finalOf(event) ?? final;
    }

    const modelName = model ?? (turn.model.trim() && turn.model !== "default" ? turn.model : null);
    const usage = final?.usage ?? null;
    const cost = usage ? estimateCostUsd(modelName, usage) : { costUsd: 0, costSource: "unknown" as const };
    const base = {
      finalText: final?.text ?? lastAssistantText,
      sessionId: final?.sessionId ?? sessionId ?? turn.resumeSessionId,
      model: modelName,
      usage: usage ?? { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: cost.costUsd,
      costSource: cost.costSource,
      turns: final?.turns ?? assistantMessages,
      durationMs: final?.durationMs ?? Math.max(0, Math.round(output.durationMs)),
    };
    const fail = (stopReason: StopReason, code: string, message: string) => ({
      ...base,
      ok: false,
      stopReason,
      error: { code, message },
    });

    const broken = processFailure(output, "droid", events.length);
    if (broken) return fail(broken.stopReason, broken.code, broken.message);
    if (final?.isError) {
      return fail("error", "agent_error", final.text || errorMessage || "Droid reported an error");
    }
    if (!final && errorMessage) return fail("error", "agent_error", errorMessage);
    if (output.exitCode !== 0) {
      const why = output.signal ? `signal ${output.signal}` : `exit code ${output.exitCode}`;
      const detail = errorMessage ?? tail(output.stderr);
      return fail("error", "exit_code", `droid ended with ${why}${detail ? `: ${detail}` : ""}`);
    }
    if (!final) return fail("error", "no_result", "droid ended without a completion event");
    return { ...base, ok: true, stopReason: "completed", error: null };
  }
}
