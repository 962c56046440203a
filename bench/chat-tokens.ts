// What one PO turn sends the model, split into system prompt, tool schemas and messages, read from
// request bodies in the fake Anthropic's log. Tokens are estimated: characters / 4, and, when the
// js-tiktoken package is installed, OpenAI's cl100k_base tokenizer (Claude's own tokenizer is not
// public, so that count is an approximation too).

/** Sizes of one request: characters per part, and tokens by the tokenizer when there is one. */
export interface RequestSize {
  chars: { system: number; tools: number; messages: number; total: number };
  tokenizer: { system: number; tools: number; messages: number; total: number } | null;
  /** Characters per tool schema (name, description, input schema as JSON), by tool name. */
  perTool: Map<string, number>;
}

type Count = (text: string) => number;

interface WireBody {
  system?: string | { text: string }[];
  tools?: { name: string; description?: string; input_schema?: unknown }[];
  messages?: { role: string; content: string | Record<string, unknown>[] }[];
}

/** cl100k_base from js-tiktoken when it can be loaded, else null. */
export async function loadTokenizer(): Promise<Count | null> {
  // Named through variables: js-tiktoken is not a dependency of ours, only present when installed.
  const lite = "js-tiktoken/lite";
  const ranks = "js-tiktoken/ranks/cl100k_base";
  try {
    const { Tiktoken } = (await import(lite)) as {
      Tiktoken: new (ranks: unknown) => { encode(text: string): number[] };
    };
    const { default: cl100k } = (await import(ranks)) as { default: unknown };
    const encoder = new Tiktoken(cl100k);
    return (text) => encoder.encode(text).length;
  } catch {
    return null;
  }
}

/** The three parts of a request as text: what the model reads of each. */
export function requestParts(body: unknown): {
  system: string;
  tools: { name: string; text: string }[];
  messages: string;
} {
  const wire = body as WireBody;
  const system =
    typeof wire.system === "string" ? wire.system : (wire.system ?? []).map((b) => b.text).join("\n");
  // Name, description and input schema; `cache_control` is a transport marker, not prompt text.
  const tools = (wire.tools ?? []).map((t) => ({
    name: t.name,
    text: JSON.stringify({ name: t.name, description: t.description, input_schema: t.input_schema }),
  }));
  const messages = (wire.messages ?? [])
    .flatMap((m) => (typeof m.content === "string" ? [m.content] : m.content.map(blockText)))
    .join("\n");
  return { system, tools, messages };
}

/** The text a content block puts before the model: its words, a tool call's input, a tool result. */
function blockText(block: Record<string, unknown>): string {
  if (block.type === "text") return String(block.text ?? "");
  if (block.type === "tool_use") return `${String(block.name)} ${JSON.stringify(block.input)}`;
  if (block.type === "tool_result") {
    const content = block.content;
    return typeof content === "string" ? content : JSON.stringify(content);
  }
  return JSON.stringify(block);
}

export function requestSize(body: unknown, count: Count | null): RequestSize {
  const parts = requestParts(body);
  const tools = parts.tools.map((t) => t.text).join("\n");
  const chars = {
    system: parts.system.length,
    tools: tools.length,
    messages: parts.messages.length,
    total: parts.system.length + tools.length + parts.messages.length,
  };
  const tokenizer = count
    ? (() => {
        const system = count(parts.system);
        const toolTokens = count(tools);
        const messages = count(parts.messages);
        return { system, tools: toolTokens, messages, total: system + toolTokens + messages };
      })()
    : null;
  return { chars, tokenizer, perTool: new Map(parts.tools.map((t) => [t.name, t.text.length])) };
}

/** The estimate the aim is judged by: characters / 4. */
export const estimateTokens = (chars: number): number => Math.ceil(chars / 4);

/** The median of each part over `sizes` (per tool: the first one's). */
export function medianSize(sizes: readonly RequestSize[]): RequestSize {
  const parts = ["system", "tools", "messages", "total"] as const;
  const median = (pick: (s: RequestSize) => number) => {
    const values = sizes.map(pick).sort((a, b) => a - b);
    return values[Math.floor((values.length - 1) / 2)] ?? Number.NaN;
  };
  const of = (pick: (s: RequestSize, part: (typeof parts)[number]) => number) =>
    Object.fromEntries(parts.map((part) => [part, median((s) => pick(s, part))])) as RequestSize["chars"];
  return {
    chars: of((s, part) => s.chars[part]),
    tokenizer: sizes.every((s) => s.tokenizer) ? of((s, part) => s.tokenizer?.[part] ?? 0) : null,
    perTool: sizes[0]?.perTool ?? new Map(),
  };
}
