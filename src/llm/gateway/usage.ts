import type { TokenCounts } from "../../contracts/index.js";

/** The model and token counts one provider call reported, as far as they were seen. */
export interface MeteredUsage {
  model: string | null;
  usage: TokenCounts;
}

/**
 * Reads a provider's own usage figures from a response as it streams past: fed with the body's
 * text in chunks (server-sent events or one JSON document), then asked for what it saw. It never
 * changes what the client receives; a body it cannot read yields null (the call is still counted
 * as made, with no tokens, by the caller).
 */
export interface UsageMeter {
  feed(chunk: string): void;
  finish(): MeteredUsage | null;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const count = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;

/**
 * Splits a body into what it carries: each `data:` payload of an event stream, or the whole body
 * when it is plain JSON. Lines may arrive cut anywhere, so the unfinished tail waits for the next chunk.
 */
class BodyReader {
  private pending = "";
  private whole = "";
  private isStream: boolean | null = null;

  constructor(private readonly onDocument: (doc: Json) => void) {}

  feed(chunk: string): void {
    if (this.isStream === null) {
      const start = (this.pending + chunk).trimStart();
      if (start.length === 0) {
        this.pending += chunk;
        return;
      }
      this.isStream = !start.startsWith("{");
    }
    if (!this.isStream) {
      this.whole += this.pending + chunk;
      this.pending = "";
      return;
    }
    const text = this.pending + chunk;
    const lines = text.split("\n");
    this.pending = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }

  end(): void {
    if (this.isStream) {
      if (this.pending) this.line(this.pending);
    } else this.parse(this.whole + this.pending);
    this.pending = "";
    this.whole = "";
  }

  private line(raw: string): void {
    const line = raw.replace(/\r$/, "");
    if (!line.startsWith("data:")) return;
    const data = line.slice(5).trim();
    if (data && data !== "[DONE]") this.parse(data);
  }

  private parse(text: string): void {
    try {
      const doc: unknown = JSON.parse(text);
      if (isObject(doc)) this.onDocument(doc);
    } catch {
      // Not JSON (a keep-alive, an HTML error page): nothing to count in it.
    }
  }
}

/** Builds a meter from a function that folds each document into the running figures. */
function meter(fold: (doc: Json, seen: MeteredUsage) => boolean): UsageMeter {
  const seen: MeteredUsage = {
    model: null,
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
  };
  let found = false;
  const reader = new BodyReader((doc) => {
    if (fold(doc, seen)) found = true;
  });
  return {
    feed: (chunk) => reader.feed(chunk),
    finish() {
      reader.end();
      return found ? seen : null;
    },
  };
}

/**
 * Anthropic Messages API: `message_start` carries the input side (and a first output count),
 * each `message_delta` the cumulative output (and, on newer API versions, the input side again);
 * a non-streamed answer carries `usage` at the top. Input tokens are the uncached ones; cache
 * reads and writes are separate, as Anthropic reports them.
 */
export function anthropicMeter(): UsageMeter {
  return meter((doc, seen) => {
    let usage: unknown;
    if (doc.type === "message_start" && isObject(doc.message)) {
      usage = doc.message.usage;
      if (typeof doc.message.model === "string") seen.model = doc.message.model;
    } else if (doc.type === "message_delta") usage = doc.usage;
    else if (doc.type === "message") {
      usage = doc.usage;
      if (typeof doc.model === "string") seen.model = doc.model;
    }
    if (!isObject(usage)) return false;
    const u = seen.usage;
    u.inputTokens = count(usage.input_tokens) ?? u.inputTokens;
    u.outputTokens = count(usage.output_tokens) ?? u.outputTokens;
    u.cacheReadTokens = count(usage.cache_read_input_tokens) ?? u.cacheReadTokens;
    u.cacheWriteTokens = count(usage.cache_creation_input_tokens) ?? u.cacheWriteTokens;
    return true;
  });
}

/**
 * OpenAI's counts, whose input includes the cached part: the cached tokens move to
 * `cacheReadTokens` so input means uncached input, as with Anthropic.
 */
function openAiCounts(input: unknown, details: unknown, output: unknown): TokenCounts {
  const total = count(input) ?? 0;
  const cached = Math.min(total, count(isObject(details) ? details.cached_tokens : undefined) ?? 0);
  return {
    inputTokens: total - cached,
    outputTokens: count(output) ?? 0,
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
  };
}

/**
 * OpenAI chat completions: the usage object of a non-streamed answer, or of the last chunk of a
 * stream (sent when `stream_options.include_usage` is on; the gateway turns it on).
 */
export function openAiChatMeter(): UsageMeter {
  return meter((doc, seen) => {
    if (typeof doc.model === "string") seen.model = doc.model;
    if (!isObject(doc.usage)) return false;
    const u = doc.usage;
    seen.usage = openAiCounts(u.prompt_tokens, u.prompt_tokens_details, u.completion_tokens);
    return true;
  });
}

/**
 * OpenAI Responses API (what Codex speaks): `response.completed` (streamed) or the response
 * itself carries `usage` with input, output and cached input tokens.
 */
export function openAiResponsesMeter(): UsageMeter {
  return meter((doc, seen) => {
    const response = isObject(doc.response) ? doc.response : doc.object === "response" ? doc : null;
    if (!response) return false;
    if (typeof response.model === "string") seen.model = response.model;
    if (!isObject(response.usage)) return false;
    const u = response.usage;
    seen.usage = openAiCounts(u.input_tokens, u.input_tokens_details, u.output_tokens);
    return true;
  });
}
