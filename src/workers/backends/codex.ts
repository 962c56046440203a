import type { AgentResult, StopReason, TokenCounts } from "../../contracts/index.js";
import { estimateCostUsd } from "../../llm/index.js";
import type { AgentBackend, Invocation, InvocationOutput, TurnRequest } from "../backend.js";
import { type Json, parseJsonLine, processFailure, tail } from "./cli-output.js";

/**
 * OpenAI's Codex CLI in non-interactive mode: `codex exec --json` prints one JSON event per line
 * (`thread.started`, `turn.started`, `item.*`, `turn.completed` with token usage, `turn.failed`,
 * `error`). A turn resumes its thread with `codex exec resume <thread id>`. Codex reports tokens but
 * no money, so the cost is estimated from the price table.
 */

/** Above this size a prompt goes through stdin (`-` argument) instead of argv (Linux caps one argument at 128 KiB). */
export const CODEX_MAX_PROMPT_ARG_BYTES = 100_000;

/** How much Codex's own sandbox restricts it. Inside our sandbox its own one is redundant (and may not start). */
export type CodexSandboxMode = "bypass" | "workspace-write";

export interface CodexBackendOptions {
  /** The `codex` executable as the sandbox sees it. */
  command?: string;
  /** `bypass` (default): `--dangerously-bypass-approvals-and-sandbox`; our runtime is the sandbox. */
  sandbox?: CodexSandboxMode;
}

/** Token usage of one Codex turn as `turn.completed` reports it (`input_tokens` includes cached ones). */
interface CodexUsage {
  input_tokens?: unknown;
  cached_input_tokens?: unknown;
  output_tokens?: unknown;
}

const count = (value: unknown): number =>
  typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;

const str = (value: unknown): string | null => (typeof value === "string" ? value : null);

/** The `AgentBackend` for `codex exec --json`. */
export class CodexBackend implements AgentBackend {
  readonly name = "codex" as const;
  private readonly command: string;
  private readonly sandbox: CodexSandboxMode;

  constructor(options: CodexBackendOptions = {}) {
    this.command = options.command ?? "codex";
    this.sandbox = options.sandbox ?? "bypass";
  }

  /**
   * `codex exec [flags] [resume <thread>] <prompt>`. The prompt is an argument and stdin stays
   * closed, except for a prompt too long for argv or starting with `-` (it would read as a flag):
   * then the argument is `-` and the prompt goes to stdin. The system prompt (Codex has no flag for
   * one) leads the first prompt of a thread; a resumed thread already holds it.
   */
  invocation(turn: TurnRequest): Invocation {
    const argv = [this.command, "exec", "--json", "--skip-git-repo-check"];
    if (this.sandbox === "bypass") argv.push("--dangerously-bypass-approvals-and-sandbox");
    else argv.push("--sandbox", "workspace-write");
    if (turn.model.trim() && turn.model !== "default") argv.push("--model", turn.model);
    if (turn.resumeSessionId) argv.push("resume", turn.resumeSessionId);

    const prompt =
      !turn.resumeSessionId && turn.systemPrompt?.trim()
        ? `${turn.systemPrompt.trim()}\n\n---\n\n${turn.prompt}`
        : turn.prompt;
    const viaStdin = Buffer.byteLength(prompt) > CODEX_MAX_PROMPT_ARG_BYTES || prompt.startsWith("-");
    if (viaStdin) {
      argv.push("-");
      return { argv, env: {}, stdin: prompt };
    }
    argv.push(prompt);
    return { argv, env: {} };
  }

  /** Progress worth showing while the turn runs: messages, commands, file changes, failures. */
  streamEvent(line: string): { kind: string; text: string } | null {
    const event = parseJsonLine(line);
    if (!event) return null;
    switch (event.type) {
      case "thread.started":
        return { kind: "session", text: str(event.thread_id) ?? "" };
      case "item.completed": {
        const item = (event.item ?? {}) as Json;
        if (item.type === "agent_message") return { kind: "message", text: str(item.text) ?? "" };
        if (item.type === "command_execution") {
          const exit = typeof item.exit_code === "number" ? ` (exit ${item.exit_code})` : "";
          return { kind: "command", text: `${str(item.command) ?? ""}${exit}` };
        }
        if (item.type === "file_change" && Array.isArray(item.changes)) {
          const paths = item.changes.map((c) => `${(c as Json).kind ?? "update"} ${(c as Json).path ?? "?"}`);
          return { kind: "file_change", text: paths.join(", ") };
        }
        return null;
      }
      case "turn.failed":
        return { kind: "error", text: str(((event.error ?? {}) as Json).message) ?? "turn failed" };
      case "error":
        return { kind: "error", text: str(event.message) ?? "error" };
      default:
        return null;
    }
  }

  /** Reads the JSONL stream into a normalized result; never throws. */
  parse(output: InvocationOutput, turn: TurnRequest): Omit<AgentResult, "report"> {
    let threadId: string | null = null;
    let finalText = "";
    let turns = 0;
    let jsonLines = 0;
    let completed = false;
    let failure: { code: string; message: string } | null = null;
    const usage: TokenCounts = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

    for (const line of output.stdout.split("\n")) {
      const event = parseJsonLine(line);
      if (!event) continue;
      jsonLines += 1;
      switch (event.type) {
        case "thread.started":
          threadId = str(event.thread_id) ?? threadId;
          break;
        case "turn.started":
          turns += 1;
          break;
        case "item.completed": {
          const item = (event.item ?? {}) as Json;
          if (item.type === "agent_message" && typeof item.text === "string") finalText = item.text;
          break;
        }
        case "turn.completed": {
          const u = (event.usage ?? {}) as CodexUsage;
          const input = count(u.input_tokens);
          const cached = Math.min(count(u.cached_input_tokens), input);
          // Codex counts cached tokens inside input_tokens; ours keeps them apart, as Anthropic does.
          usage.inputTokens += input - cached;
          usage.cacheReadTokens += cached;
          usage.outputTokens += count(u.output_tokens);
          completed = true;
          failure = null;
          break;
        }
        case "turn.failed":
          completed = false;
          failure = {
            code: "turn_failed",
            message: str(((event.error ?? {}) as Json).message) ?? "the Codex turn failed",
          };
          break;
        case "error":
          if (!completed) failure = { code: "agent_error", message: str(event.message) ?? "Codex error" };
          break;
      }
    }

    const model = turn.model.trim() && turn.model !== "default" ? turn.model : null;
    const cost = estimateCostUsd(model, usage);
    const base = {
      finalText,
      sessionId: threadId ?? turn.resumeSessionId,
      model,
      usage,
      costUsd: cost.costUsd,
      costSource: cost.costSource,
      turns,
      durationMs: Math.max(0, Math.round(output.durationMs)),
    };
    const fail = (stopReason: StopReason, code: string, message: string) => ({
      ...base,
      ok: false,
      stopReason,
      error: { code, message },
    });

    const broken = processFailure(output, "codex", jsonLines);
    if (broken) return fail(broken.stopReason, broken.code, broken.message);
    if (failure) return fail("error", failure.code, failure.message);
    if (output.exitCode !== 0) {
      const why = output.signal ? `signal ${output.signal}` : `exit code ${output.exitCode}`;
      return fail("error", "exit_code", `codex ended with ${why}: ${tail(output.stderr)}`.trim());
    }
    if (!completed) return fail("error", "no_result", "codex ended without completing its turn");
    return { ...base, ok: true, stopReason: "completed", error: null };
  }
}
