import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { type AgentResult, AppError, type StopReason } from "../../contracts/index.js";
import type { AgentBackend, Invocation, InvocationOutput, TurnRequest } from "../backend.js";
import type { BuiltinTool } from "../role-tools.js";
import {
  type ClaudeStreamScan,
  claudeStreamEvent,
  count,
  resultUsage,
  scanClaudeStream,
  str,
} from "./claude-code-stream.js";

/**
 * Anthropic's Claude Code CLI in print mode: `claude -p --output-format stream-json --verbose`,
 * the prompt on stdin, one JSON event per line, a final `result` event with the session id,
 * tokens and the provider-computed cost. Checked against 2.1.197 running on the fake Anthropic API
 * (`test/fakes/anthropic`); the fixtures next to this file were recorded that way.
 */

/** Retries the CLI makes per API call; it retries for minutes by default when the API is down. */
export const CLAUDE_CODE_DEFAULT_MAX_RETRIES = 2;
const MESSAGE_LIMIT = 2_000;

/** Packages that hold the native binary, most specific first (npm installs only the matching one). */
const BINARY_CANDIDATES = [
  `@anthropic-ai/claude-code-${process.platform}-${process.arch}/claude`,
  `@anthropic-ai/claude-code-${process.platform}-${process.arch}-musl/claude`,
  "@anthropic-ai/claude-code/bin/claude.exe",
];

/**
 * The absolute path of the installed native `claude` binary, resolved from the npm packages this
 * project depends on (so the version under test is the one that runs, not whatever is on PATH).
 * Throws an `unavailable` AppError when no package provides it.
 */
export function claudeBinaryPath(): string {
  const require = createRequire(import.meta.url);
  for (const candidate of BINARY_CANDIDATES) {
    try {
      const path = require.resolve(candidate);
      if (existsSync(path)) return path;
    } catch {
      // not installed for this platform; try the next one
    }
  }
  throw new AppError(
    "unavailable",
    "claude_binary_missing",
    "the Claude Code binary is not installed (npm package @anthropic-ai/claude-code)",
  );
}

export interface ClaudeCodeBackendOptions {
  /** The `claude` executable as the sandbox sees it; defaults to `claudeBinaryPath()`. */
  command?: string;
  /** `CLAUDE_CODE_MAX_RETRIES`: bounds how long an unreachable or failing API is retried. */
  maxRetries?: number;
  /**
   * Lean turns (the default): only the turn's `builtinTools`, no auto-memory, per-machine prompt
   * sections out of the system prompt. False runs the CLI as shipped (every built-in tool), to
   * compare request sizes.
   */
  isLean?: boolean;
}

/** The CLI's names for the built-in tools a role may be offered (`--tools`). */
export const CLAUDE_TOOL_NAMES: Readonly<Record<BuiltinTool, string>> = {
  shell: "Bash",
  read: "Read",
  write: "Write",
  edit: "Edit",
};

/**
 * What a lean turn changes, measured on 2.1.197 against the fake API (bench/engineering): every
 * built-in tool offered adds its JSON schema and guidance to every request (Bash alone ~3k tokens,
 * all of them ~20k), and the auto-memory section is ~3.2k tokens of the system prompt. The rest of
 * the default system prompt (~3.2k tokens: tool etiquette, git safety) is kept: `--system-prompt`
 * (or `--bare`, which also drops Write and shortens every tool's guidance to a line) would save
 * about that much again but lose the guidance the CLI's tools are tuned to. Moving the per-machine
 * sections (cwd, git status) into the first message keeps the system prompt identical across
 * sandboxes and turns, so the provider's prompt cache can serve it.
 */
function leanArgs(tools: readonly BuiltinTool[] | null | undefined): string[] {
  const args: string[] = [];
  // `=` form: `--tools` takes several values and would swallow a following word.
  if (tools) args.push(`--tools=${tools.map((t) => CLAUDE_TOOL_NAMES[t]).join(",")}`);
  args.push("--exclude-dynamic-system-prompt-sections");
  return args;
}

/** Environment the CLI needs beyond the caller's allow-list (API key and base URL come from there). */
function claudeEnv(maxRetries: number, isLean: boolean): Record<string, string> {
  return {
    // Auto-memory: ~3.2k tokens of instructions per request, for notes kept in a HOME that goes
    // with the worker; a resumed session has its conversation anyway.
    ...(isLean ? { CLAUDE_CODE_DISABLE_AUTO_MEMORY: "1" } : {}),
    // As root, --dangerously-skip-permissions refuses to run unless told it is in a sandbox.
    IS_SANDBOX: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    CLAUDE_CODE_MAX_RETRIES: String(maxRetries),
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    DISABLE_NON_ESSENTIAL_MODEL_CALLS: "1",
    CLAUDE_CODE_DISABLE_TERMINAL_TITLE: "1",
    // MCP servers connect in the background by default: a fast model could call `report` before
    // `orchestrator mcp` is up and be told the tool does not exist. Wait for the connection.
    MCP_CONNECTION_NONBLOCKING: "false",
  };
}

/** The CLI failed to write its own state under HOME (`~/.claude`): sessions are lost, Bash fails. */
const HOME_UNWRITABLE = /\b(EACCES|EROFS|ENOTDIR|EPERM|ENOSPC)\b[^\n]*\/\.claude\b/;
const UNREACHABLE = /unable to connect|connection ?refused|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|timed? ?out/i;

const clip = (text: string): string => text.trim().slice(0, MESSAGE_LIMIT);
const firstLine = (text: string): string => text.trim().split("\n")[0]?.slice(0, MESSAGE_LIMIT) ?? "";

/** A stable code for an API failure the CLI reported as `is_error` with subtype `success`. */
function apiFailureCode(status: unknown, message: string): string {
  if (status === 401 || status === 403) return "auth_failed";
  if (status === 429) return "rate_limited";
  if (status === 529) return "overloaded";
  if (typeof status === "number") return "api_error";
  return UNREACHABLE.test(message) ? "api_unreachable" : "agent_error";
}

/** The `AgentBackend` for the Claude Code CLI. */
export class ClaudeCodeBackend implements AgentBackend {
  readonly name = "claude-code" as const;
  private readonly command: string | undefined;
  private readonly maxRetries: number;
  private readonly isLean: boolean;

  constructor(options: ClaudeCodeBackendOptions = {}) {
    this.command = options.command;
    this.maxRetries = options.maxRetries ?? CLAUDE_CODE_DEFAULT_MAX_RETRIES;
    this.isLean = options.isLean ?? true;
  }

  /**
   * The argument array of one turn. The prompt goes on stdin (never argv: it can be large and
   * could read as a flag). `--strict-mcp-config` keeps MCP servers declared by the workspace's own
   * files (a user's repository) out: only the orchestrator's config is loaded. A lean turn offers
   * only the turn's built-in tools (`--tools`; the MCP tools stay).
   */
  invocation(turn: TurnRequest): Invocation {
    const argv = [
      this.command ?? claudeBinaryPath(),
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--model",
      turn.model,
      "--max-turns",
      String(turn.maxTurns),
      "--max-budget-usd",
      String(turn.budgetUsd),
    ];
    if (turn.resumeSessionId) argv.push("--resume", turn.resumeSessionId);
    else if (turn.newSessionId) argv.push("--session-id", turn.newSessionId);
    // `=` form: a value starting with "-" must not read as a flag.
    if (turn.systemPrompt?.trim()) argv.push(`--append-system-prompt=${turn.systemPrompt}`);
    if (turn.mcpConfigPath) argv.push(`--mcp-config=${turn.mcpConfigPath}`);
    if (this.isLean) argv.push(...leanArgs(turn.builtinTools));
    argv.push("--strict-mcp-config", "--dangerously-skip-permissions");
    return { argv, env: claudeEnv(this.maxRetries, this.isLean), stdin: turn.prompt };
  }

  /** Progress for the UI: session start, API retries, assistant text, tool calls and results. */
  streamEvent(line: string): { kind: string; text: string } | null {
    return claudeStreamEvent(line);
  }

  /**
   * Reads the stream into a normalized result; never throws. The order of checks matters: the
   * process outcome (timeout, kill, empty or garbage output) first, then `is_error` before
   * `subtype` (an API or auth failure arrives as subtype "success" with `is_error: true`).
   */
  parse(output: InvocationOutput, turn: TurnRequest): Omit<AgentResult, "report"> {
    let scan: ClaudeStreamScan;
    try {
      scan = scanClaudeStream(output.stdout);
    } catch (error) {
      scan = scanClaudeStream("");
      scan.firstNonJsonLine = error instanceof Error ? error.message : String(error);
    }
    const result = scan.result;
    const hasCost = typeof result?.total_cost_usd === "number" && Number.isFinite(result.total_cost_usd);
    const base = {
      finalText: (result ? str(result.result) : null) ?? scan.lastAssistantText,
      sessionId: scan.sessionId ?? turn.resumeSessionId ?? turn.newSessionId,
      model: scan.model ?? (turn.model || null),
      usage: result ? resultUsage(result) : scan.streamedUsage,
      costUsd: hasCost ? Math.max(0, result?.total_cost_usd as number) : 0,
      costSource: hasCost ? ("provider" as const) : ("unknown" as const),
      turns: result ? count(result.num_turns) : 0,
      durationMs: Math.max(0, Math.round(output.durationMs || count(result?.duration_ms))),
    };
    const ok = () => ({ ...base, ok: true, stopReason: "completed" as const, error: null });
    const fail = (stopReason: StopReason, code: string, message: string) => ({
      ...base,
      ok: false,
      stopReason,
      error: { code, message: clip(message) || code },
    });

    if (output.timedOut)
      return fail("timeout", "timeout", "the Claude Code turn ran out of time and was stopped");
    if (output.signal === "SIGKILL" || output.exitCode === 137) {
      return fail("error", "killed", "the Claude Code process was killed (SIGKILL)");
    }
    if (!output.stdout.trim()) {
      const why = firstLine(output.stderr);
      return fail(
        "error",
        "empty_output",
        `claude printed nothing (exit ${output.exitCode ?? output.signal}); ${why || "is its HOME or /tmp writable?"}`,
      );
    }
    if (scan.jsonLines === 0) {
      return fail("error", "bad_output", `claude printed no JSON: ${firstLine(output.stdout)}`);
    }
    if (!result) {
      const why = firstLine(output.stderr) || scan.firstNonJsonLine || `exit ${output.exitCode}`;
      return fail("error", "no_result", `claude ended without a result event: ${why}`);
    }

    const subtype = str(result.subtype) ?? "unknown";
    const errorText = Array.isArray(result.errors) ? result.errors.map(String).join("; ") : "";
    if (result.is_error === true || subtype !== "success") {
      switch (subtype) {
        case "error_max_turns":
          return fail(
            "max_turns",
            "max_turns",
            errorText || `stopped after ${base.turns} turns (max ${turn.maxTurns})`,
          );
        case "error_max_budget_usd":
          return fail("budget", "budget", errorText || `the budget of $${turn.budgetUsd} was spent`);
        case "success": {
          const message = str(result.result) ?? errorText;
          return fail("error", apiFailureCode(result.api_error_status, message), message);
        }
        default:
          return fail("error", subtype, errorText || str(result.result) || `claude ended with ${subtype}`);
      }
    }
    const homeError = scan.toolErrors.find((text) => HOME_UNWRITABLE.test(text));
    if (homeError) return fail("error", "home_unwritable", `claude cannot write its HOME: ${homeError}`);
    if (output.exitCode !== 0) {
      return fail(
        "error",
        "exit_code",
        `claude reported success but exited ${output.exitCode}: ${firstLine(output.stderr)}`,
      );
    }
    return ok();
  }
}
