/**
 * Reading Claude Code's `--output-format stream-json --verbose` output: one JSON event per line
 * (`system` init and api_retry, `assistant` and `user` messages, a final `result`). Kept apart from
 * the backend so the event shapes seen in 2.1.197 live in one place.
 */
import type { TokenCounts } from "../../contracts/index.js";
import { type Json, parseJsonLine } from "./cli-output.js";

/** What one pass over the output found. */
export interface ClaudeStreamScan {
  /** Lines that parsed as JSON objects. */
  jsonLines: number;
  /** The first line that did not (for a `bad_output` message). */
  firstNonJsonLine: string | null;
  /** From the `system`/`init` event. */
  sessionId: string | null;
  model: string | null;
  /** The last `result` event, if the CLI got that far. */
  result: Json | null;
  /** Tokens summed from assistant messages (deduplicated by message id): a fallback without `result`. */
  streamedUsage: TokenCounts;
  /** Texts of tool results flagged `is_error`. */
  toolErrors: string[];
  /** The last assistant text seen (a final text when the result has none). */
  lastAssistantText: string;
}

const TEXT_LIMIT = 500;

export const count = (value: unknown): number =>
  typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;

export const str = (value: unknown): string | null => (typeof value === "string" ? value : null);

const obj = (value: unknown): Json =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};

const blocks = (message: unknown): Json[] => {
  const content = obj(message).content;
  return Array.isArray(content) ? content.map(obj) : [];
};

/** The text of a tool result's content, which is a string or a list of text blocks. */
function toolResultText(block: Json): string {
  if (typeof block.content === "string") return block.content;
  if (Array.isArray(block.content)) {
    return block.content
      .map((part) => str(obj(part).text) ?? "")
      .filter(Boolean)
      .join("\n");
  }
  return "";
}

/** One pass over stdout collecting what `parse` needs. */
export function scanClaudeStream(stdout: string): ClaudeStreamScan {
  const scan: ClaudeStreamScan = {
    jsonLines: 0,
    firstNonJsonLine: null,
    sessionId: null,
    model: null,
    result: null,
    streamedUsage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    toolErrors: [],
    lastAssistantText: "",
  };
  const usageById = new Map<string, TokenCounts>();
  for (const line of stdout.split("\n")) {
    if (!line.trim()) continue;
    const event = parseJsonLine(line);
    if (!event) {
      scan.firstNonJsonLine ??= line.trim();
      continue;
    }
    scan.jsonLines += 1;
    if (event.type === "system" && event.subtype === "init") {
      scan.sessionId = str(event.session_id) ?? scan.sessionId;
      scan.model = str(event.model) ?? scan.model;
    } else if (event.type === "assistant") {
      const message = obj(event.message);
      const id = str(message.id);
      // A synthetic message (model "<synthetic>") is the CLI's own error text, not a model call.
      if (id && message.model !== "<synthetic>") usageById.set(id, usageOf(message.usage));
      const text = blocks(message)
        .map((b) => (b.type === "text" ? (str(b.text) ?? "") : ""))
        .join("");
      if (text) scan.lastAssistantText = text;
    } else if (event.type === "user") {
      for (const block of blocks(event.message)) {
        if (block.type === "tool_result" && block.is_error === true)
          scan.toolErrors.push(toolResultText(block));
      }
    } else if (event.type === "result") {
      scan.result = event;
      scan.sessionId = str(event.session_id) ?? scan.sessionId;
    }
  }
  for (const u of usageById.values()) addUsage(scan.streamedUsage, u);
  return scan;
}

/** `usage` of the Messages API (snake_case) as our token counts. */
export function usageOf(value: unknown): TokenCounts {
  const u = obj(value);
  return {
    inputTokens: count(u.input_tokens),
    outputTokens: count(u.output_tokens),
    cacheReadTokens: count(u.cache_read_input_tokens),
    cacheWriteTokens: count(u.cache_creation_input_tokens),
  };
}

/**
 * Tokens of the whole invocation from a `result` event. `modelUsage` (per model, camelCase) is
 * preferred: it also counts side calls on other models, and it stays right where the top-level
 * `usage` reads zero (2.1.197 reports zero usage on `error_max_budget_usd`).
 */
export function resultUsage(result: Json): TokenCounts {
  const perModel = Object.values(obj(result.modelUsage)).map(obj);
  if (perModel.length === 0) return usageOf(result.usage);
  const total: TokenCounts = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  for (const m of perModel) {
    addUsage(total, {
      inputTokens: count(m.inputTokens),
      outputTokens: count(m.outputTokens),
      cacheReadTokens: count(m.cacheReadInputTokens),
      cacheWriteTokens: count(m.cacheCreationInputTokens),
    });
  }
  return total;
}

function addUsage(into: TokenCounts, u: TokenCounts): void {
  into.inputTokens += u.inputTokens;
  into.outputTokens += u.outputTokens;
  into.cacheReadTokens += u.cacheReadTokens;
  into.cacheWriteTokens += u.cacheWriteTokens;
}

const clip = (text: string): string => (text.length > TEXT_LIMIT ? `${text.slice(0, TEXT_LIMIT)}…` : text);

/** A short, human line for a tool call: its name and the input field that says the most. */
function describeToolUse(block: Json): string {
  const name = str(block.name) ?? "tool";
  const input = obj(block.input);
  const detail = str(input.command) ?? str(input.file_path) ?? str(input.pattern) ?? str(input.url);
  return detail ? `${name}: ${detail}` : name;
}

/** Progress events for the UI from one line; null for noise and for lines that are not JSON. */
export function claudeStreamEvent(line: string): { kind: string; text: string } | null {
  const event = parseJsonLine(line);
  if (!event) return null;
  switch (event.type) {
    case "system":
      if (event.subtype === "init") {
        return { kind: "session", text: `${str(event.session_id) ?? "?"} (${str(event.model) ?? "?"})` };
      }
      if (event.subtype === "api_retry") {
        const status = event.error_status ?? str(event.error) ?? "unknown";
        return {
          kind: "retry",
          text: `API retry ${count(event.attempt)}/${count(event.max_retries)}: ${status}`,
        };
      }
      return null;
    case "assistant": {
      const content = blocks(event.message);
      const tools = content.filter((b) => b.type === "tool_use");
      if (tools.length > 0) return { kind: "tool_use", text: clip(tools.map(describeToolUse).join("; ")) };
      const text = content.map((b) => (b.type === "text" ? (str(b.text) ?? "") : "")).join("");
      return text ? { kind: "text", text: clip(text) } : null;
    }
    case "user": {
      const results = blocks(event.message).filter((b) => b.type === "tool_result");
      if (results.length === 0) return null;
      const failed = results.some((b) => b.is_error === true);
      const text = results.map(toolResultText).join("\n");
      return { kind: failed ? "tool_error" : "tool_result", text: clip(text) };
    }
    case "result":
      return {
        kind: event.is_error === true ? "error" : "result",
        text: clip(str(event.result) ?? str(event.subtype) ?? ""),
      };
    default:
      return null;
  }
}
