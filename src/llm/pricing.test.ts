import { describe, expect, it } from "vitest";
import type { TokenCounts } from "../contracts/index.js";
import { estimateCostUsd, PRICE_TABLE, priceFor } from "./pricing.js";

const usage = (input: number, output: number, cacheRead = 0, cacheWrite = 0): TokenCounts => ({
  inputTokens: input,
  outputTokens: output,
  cacheReadTokens: cacheRead,
  cacheWriteTokens: cacheWrite,
});

describe("priceFor", () => {
  it("matches dated Anthropic ids by family, longest prefix first", () => {
    expect(priceFor("claude-opus-4-1-20250805")?.inputPerMTok).toBe(15);
    expect(priceFor("claude-opus-4-20250514")?.inputPerMTok).toBe(15);
    expect(priceFor("claude-opus-4-5-20251101")?.inputPerMTok).toBe(5);
    expect(priceFor("claude-sonnet-4-5-20250929")?.outputPerMTok).toBe(15);
    expect(priceFor("claude-sonnet-4-20250514")?.outputPerMTok).toBe(15);
    expect(priceFor("claude-haiku-4-5-20251001")?.inputPerMTok).toBe(1);
    expect(priceFor("claude-3-5-haiku-20241022")?.inputPerMTok).toBe(0.8);
    expect(priceFor("claude-3-haiku-20240307")?.inputPerMTok).toBe(0.25);
    expect(priceFor("claude-3-7-sonnet-latest")?.inputPerMTok).toBe(3);
    expect(priceFor("claude-3-opus-20240229")?.outputPerMTok).toBe(75);
  });

  it("matches OpenAI models, the specific entry beating the general one", () => {
    expect(priceFor("gpt-5")?.inputPerMTok).toBe(1.25);
    expect(priceFor("gpt-5-codex")?.outputPerMTok).toBe(10);
    expect(priceFor("gpt-5-mini")?.inputPerMTok).toBe(0.25);
    expect(priceFor("gpt-5-nano-2025-08-07")?.inputPerMTok).toBe(0.05);
    expect(priceFor("gpt-5.1-codex-mini")?.inputPerMTok).toBe(0.25);
    expect(priceFor("o4-mini")?.outputPerMTok).toBe(4.4);
    expect(priceFor("gpt-4.1")?.inputPerMTok).toBe(2);
    expect(priceFor("gpt-4.1-mini-2025-04-14")?.inputPerMTok).toBe(0.4);
  });

  it("ignores case and a provider prefix", () => {
    expect(priceFor("Anthropic/Claude-Sonnet-4-5")).toEqual(PRICE_TABLE["claude-sonnet-4"]);
    expect(priceFor("openai/gpt-5-codex")).toEqual(PRICE_TABLE["gpt-5-codex"]);
  });

  it("falls back to a family price for a newer model of a known family", () => {
    expect(priceFor("claude-nova-9")).toEqual(PRICE_TABLE["claude-"]);
    expect(priceFor("gpt-7-turbo")).toEqual(PRICE_TABLE["gpt-"]);
  });

  it("knows nothing of other models, nor of an empty name", () => {
    expect(priceFor("llama-3-70b")).toBeNull();
    expect(priceFor("")).toBeNull();
    expect(priceFor(null)).toBeNull();
    expect(priceFor(undefined)).toBeNull();
  });

  it("has sane, non-negative prices everywhere, cache reads cheaper than input", () => {
    for (const [prefix, p] of Object.entries(PRICE_TABLE)) {
      expect(p.inputPerMTok, prefix).toBeGreaterThan(0);
      expect(p.outputPerMTok, prefix).toBeGreaterThanOrEqual(p.inputPerMTok);
      expect(p.cacheReadPerMTok, prefix).toBeLessThan(p.inputPerMTok);
      expect(p.cacheWritePerMTok, prefix).toBeGreaterThanOrEqual(p.inputPerMTok);
    }
  });
});

describe("estimateCostUsd", () => {
  it("prices every kind of token", () => {
    // 1M of each on Sonnet: 3 + 15 + 0.30 + 3.75
    expect(estimateCostUsd("claude-sonnet-4-5", usage(1e6, 1e6, 1e6, 1e6))).toEqual({
      costUsd: 22.05,
      costSource: "estimated",
    });
  });

  it("estimates a typical Codex turn", () => {
    // 24_763 input of which 24_448 cached, 122 output on gpt-5-codex
    const cost = estimateCostUsd("gpt-5-codex", usage(24_763 - 24_448, 122, 24_448));
    expect(cost.costSource).toBe("estimated");
    expect(cost.costUsd).toBeCloseTo((315 * 1.25 + 122 * 10 + 24_448 * 0.125) / 1e6, 6);
  });

  it("rounds to a millionth of a dollar", () => {
    const { costUsd } = estimateCostUsd("claude-haiku-4-5", usage(1, 1));
    expect(costUsd).toBe(0.000006);
    expect(estimateCostUsd("claude-3-haiku", usage(1, 0)).costUsd).toBe(0);
  });

  it("is zero but estimated for a known model with no tokens", () => {
    expect(estimateCostUsd("gpt-5", usage(0, 0))).toEqual({ costUsd: 0, costSource: "estimated" });
  });

  it("is zero and unknown for a model it cannot price", () => {
    expect(estimateCostUsd("mystery-model", usage(1000, 1000))).toEqual({
      costUsd: 0,
      costSource: "unknown",
    });
    expect(estimateCostUsd(null, usage(1000, 1000))).toEqual({ costUsd: 0, costSource: "unknown" });
  });
});
