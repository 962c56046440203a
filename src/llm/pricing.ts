import type { TokenCounts } from "../contracts/index.js";

/**
 * List prices of the models our agent backends run, in USD per million tokens. Backends whose CLI
 * reports tokens but no money (Codex, Factory Droid) estimate the cost of a turn from this table;
 * the result is recorded with cost source "estimated", never passed off as a provider's figure.
 */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  /** Input tokens served from the provider's prompt cache. */
  cacheReadPerMTok: number;
  /** Input tokens written to the prompt cache (Anthropic's 5-minute cache; OpenAI bills them as input). */
  cacheWritePerMTok: number;
}

const price = (input: number, output: number, cacheRead: number, cacheWrite: number): ModelPrice => ({
  inputPerMTok: input,
  outputPerMTok: output,
  cacheReadPerMTok: cacheRead,
  cacheWritePerMTok: cacheWrite,
});

const OPUS_LEGACY = price(15, 75, 1.5, 18.75);
const OPUS_CURRENT = price(5, 25, 0.5, 6.25);
const SONNET = price(3, 15, 0.3, 3.75);
const HAIKU_4 = price(1, 5, 0.1, 1.25);
const GPT_5 = price(1.25, 10, 0.125, 1.25);
const GPT_5_MINI = price(0.25, 2, 0.025, 0.25);

/**
 * Model-name prefixes and their prices; the longest matching prefix wins, so a dated id
 * (`claude-opus-4-1-20250805`) finds its family and a more specific entry beats a general one
 * (`gpt-5-mini` over `gpt-5`). The bare `claude-` and `gpt-` entries are the family fallbacks for a
 * model newer than this table: a mid-range guess, still marked as an estimate.
 */
export const PRICE_TABLE: Readonly<Record<string, ModelPrice>> = {
  // Anthropic: Opus 4.0 and 4.1 kept the Claude 3 Opus price; Opus 4.5 and later cost less.
  "claude-opus-4-2025": OPUS_LEGACY,
  "claude-opus-4-0": OPUS_LEGACY,
  "claude-opus-4-1": OPUS_LEGACY,
  "claude-opus-4": OPUS_CURRENT,
  "claude-sonnet-4": SONNET,
  "claude-haiku-4": HAIKU_4,
  "claude-3-opus": price(15, 75, 1.5, 18.75),
  "claude-3-7-sonnet": SONNET,
  "claude-3-5-sonnet": SONNET,
  "claude-3-sonnet": SONNET,
  "claude-3-5-haiku": price(0.8, 4, 0.08, 1),
  "claude-3-haiku": price(0.25, 1.25, 0.03, 0.3),
  // Claude Code's model aliases name the current model of each family.
  opus: OPUS_CURRENT,
  sonnet: SONNET,
  haiku: HAIKU_4,
  "claude-": SONNET,
  // OpenAI models used by Codex. OpenAI has no cache-write charge: cached writes bill as input.
  "gpt-5.2": price(1.75, 14, 0.175, 1.75),
  "gpt-5.1-codex-mini": GPT_5_MINI,
  "gpt-5.1": GPT_5,
  "gpt-5-codex": GPT_5,
  "gpt-5-mini": GPT_5_MINI,
  "gpt-5-nano": price(0.05, 0.4, 0.005, 0.05),
  "gpt-5": GPT_5,
  "codex-mini": price(1.5, 6, 0.375, 1.5),
  "gpt-4.1-nano": price(0.1, 0.4, 0.025, 0.1),
  "gpt-4.1-mini": price(0.4, 1.6, 0.1, 0.4),
  "gpt-4.1": price(2, 8, 0.5, 2),
  "gpt-4o-mini": price(0.15, 0.6, 0.075, 0.15),
  "gpt-4o": price(2.5, 10, 1.25, 2.5),
  "o4-mini": price(1.1, 4.4, 0.275, 1.1),
  "o3-mini": price(1.1, 4.4, 0.55, 1.1),
  o3: price(2, 8, 0.5, 2),
  "gpt-": GPT_5,
};

/** Keys sorted longest first, so the first match is the longest prefix. */
const PREFIXES = Object.keys(PRICE_TABLE).sort((a, b) => b.length - a.length);

/** Normalizes a model name: lower case, without a `provider/` prefix (`anthropic/claude-...`). */
function normalizeModel(model: string): string {
  const trimmed = model.trim().toLowerCase();
  const slash = trimmed.lastIndexOf("/");
  return slash >= 0 ? trimmed.slice(slash + 1) : trimmed;
}

/** The price of a model by longest matching prefix, or null when the table does not know it. */
export function priceFor(model: string | null | undefined): ModelPrice | null {
  if (!model) return null;
  const name = normalizeModel(model);
  if (!name) return null;
  const prefix = PREFIXES.find((p) => name.startsWith(p));
  return prefix === undefined ? null : (PRICE_TABLE[prefix] ?? null);
}

/** A cost estimate and whether it could be made at all. */
export interface CostEstimate {
  costUsd: number;
  costSource: "estimated" | "unknown";
}

/**
 * Estimates what a turn cost from its token counts. `inputTokens` are the uncached input tokens
 * (cache reads and writes are counted apart, as Anthropic reports them). An unknown model costs 0
 * with source "unknown" so nobody mistakes the zero for a free turn.
 */
export function estimateCostUsd(model: string | null | undefined, usage: TokenCounts): CostEstimate {
  const p = priceFor(model);
  if (!p) return { costUsd: 0, costSource: "unknown" };
  const micro =
    usage.inputTokens * p.inputPerMTok +
    usage.outputTokens * p.outputPerMTok +
    usage.cacheReadTokens * p.cacheReadPerMTok +
    usage.cacheWriteTokens * p.cacheWritePerMTok;
  // Round to a millionth of a dollar: enough for sums, free of float noise in records.
  return { costUsd: Math.round(micro) / 1_000_000, costSource: "estimated" };
}
