// The tables bench/chat prints: latency and throughput beside the floor, tokens per PO turn, and
// the issue's aims with PASS or MISS.
import { estimateTokens, loadTokenizer, medianSize, type RequestSize, requestSize } from "./chat-tokens.js";
import { percentile, printTable } from "./stats.js";

/** The issue's aims: latency at most this many times the floor's, p99 added, tokens per PO turn. */
const AIM_RATIO = 3;
const AIM_P99_ADDED_MS = 50;
const AIM_TOKENS_PER_TURN = 4_000;

/** One aim: what it asks, what was measured, PASS or MISS. */
export type AimRow = [aim: string, measured: string, verdict: "PASS" | "MISS"];

export interface Round {
  orchestrator: number;
  floor: number;
}

const verdict = (met: boolean) => (met ? "PASS" : "MISS");

function spread(values: readonly number[]) {
  return { p50: percentile(values, 50), p99: percentile(values, 99), max: percentile(values, 100) };
}

/** Prints latency and throughput of both sides; returns the rows of their aims. */
export function latencyReport(
  shape: { warmup: number; chats: number; perChat: number },
  rounds: readonly Round[],
  rate: { orchestrator: number; floor: number },
): AimRow[] {
  const o = spread(rounds.map((r) => r.orchestrator));
  const f = spread(rounds.map((r) => r.floor));
  const slower = rate.floor / rate.orchestrator;
  console.log(
    "\nbench/chat: one chat turn, fake Telegram update pushed -> reply recorded by the fake (sendMessage);" +
      `\nlatency over ${rounds.length} sequential turns in one chat after ${shape.warmup} warm-up turns, ` +
      "orchestrator and floor alternating;" +
      `\nturns/s with ${shape.chats} chats in parallel, ${shape.perChat} turns each ` +
      "(after one first-contact turn per chat)\n",
  );
  printTable(
    ["side", "p50 ms", "p99 ms", "max ms", "turns/s"],
    [
      ["orchestrator (ChatModule: store, queue, PO, outbox)", o.p50, o.p99, o.max, rate.orchestrator],
      ["floor (bare grammY + runner, same model call)", f.p50, f.p99, f.max, rate.floor],
      ["ratio orchestrator/floor", o.p50 / f.p50, o.p99 / f.p99, "", slower],
      ["added by the orchestrator, ms", o.p50 - f.p50, o.p99 - f.p99, "", ""],
    ],
  );
  console.log("(the turns/s ratio is the floor's rate over the orchestrator's: above 1 is slower)");
  return [
    [
      `p50 latency at most ${AIM_RATIO}x the floor`,
      `${(o.p50 / f.p50).toFixed(2)}x`,
      verdict(o.p50 / f.p50 <= AIM_RATIO),
    ],
    [
      `turns/s at least 1/${AIM_RATIO} of the floor's`,
      `${slower.toFixed(2)}x slower`,
      verdict(slower <= AIM_RATIO),
    ],
    [
      `p99 added under ${AIM_P99_ADDED_MS} ms`,
      `${(o.p99 - f.p99).toFixed(1)} ms`,
      verdict(o.p99 - f.p99 < AIM_P99_ADDED_MS),
    ],
  ];
}

/**
 * Prints what the orchestrator sent per PO turn: a chat's first turn (`first`, no history) and the
 * measured turns; returns the row of the token aim, judged on the largest turn.
 */
export async function tokenReport(first: unknown, measured: readonly unknown[]): Promise<AimRow[]> {
  const count = await loadTokenizer();
  const firstSize = requestSize(first, count);
  const sizes = measured.map((body) => requestSize(body, count));
  const largest = sizes.reduce((a, b) => (b.chars.total > a.chars.total ? b : a), firstSize);
  const parts = ["system", "tools", "messages", "total"] as const;
  const row = (label: string, size: RequestSize) => [
    label,
    ...parts.map((part) => `${size.chars[part]} / ~${estimateTokens(size.chars[part])}`),
    size.tokenizer ? String(size.tokenizer.total) : "n/a",
  ];
  console.log(
    "\ntokens the orchestrator sends per PO turn (one model call), from the fake model's request log:" +
      `\ncharacters / ~tokens estimated as chars/4, per part; ${firstSize.perTool.size} tool schemas; ` +
      (count
        ? "cl100k: OpenAI's cl100k_base tokenizer (js-tiktoken), also only an approximation of Claude's"
        : "no tokenizer installed (js-tiktoken), so no cl100k count") +
      "\n",
  );
  printTable(
    ["PO turn", "system prompt", "tool schemas", "messages/context", "total", "cl100k total"],
    [
      row("first turn of a chat (no history)", firstSize),
      row(`median of the ${sizes.length} measured turns`, medianSize(sizes)),
      row("largest measured turn", largest),
    ],
  );
  const tools = [...firstSize.perTool.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
  console.log(
    `\nlargest tool schemas (chars / ~tokens): ${tools.map(([name, chars]) => `${name} ${chars} / ~${estimateTokens(chars)}`).join(", ")}`,
  );
  const worst = estimateTokens(largest.chars.total);
  return [
    [
      `under ${AIM_TOKENS_PER_TURN} tokens per PO turn (largest turn, chars/4)`,
      `~${worst}${largest.tokenizer ? ` (cl100k ${largest.tokenizer.total})` : ""}`,
      verdict(worst < AIM_TOKENS_PER_TURN),
    ],
  ];
}

export function printAims(rows: readonly AimRow[]): void {
  console.log("\naims of issue 13 (these machines are noisy: the exit code is 0 either way)\n");
  printTable(["aim", "measured", "verdict"], [...rows]);
}
