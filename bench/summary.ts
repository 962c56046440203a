// The rows of `npm run bench`'s closing table. Each bench, run alone or by bench/all.ts, hands its
// headline figures to `recordSummary`; when BENCH_SUMMARY_FILE names a file (bench/all.ts sets it)
// they are appended to it as JSON lines, one bench process after the other, and bench/all.ts prints
// them together at the end. Run alone, a bench prints only its own tables.
import { appendFile, readFile } from "node:fs/promises";
import { printTable, versusRow } from "./stats.js";

/** The environment variable naming the file the rows are appended to. */
export const SUMMARY_FILE_ENV = "BENCH_SUMMARY_FILE";

/** One headline figure beside its baseline measured in the same run. */
export interface SummaryRow {
  bench: string;
  measure: string;
  /** Unit of `value` and `baseline`, e.g. "ms", "msg/s", "projects/min". */
  unit: string;
  value: number;
  /** What the baseline is, in a few words (e.g. "bare grammY bot, same model call"). */
  baselineLabel: string;
  baseline: number;
  /** value / baseline, or the median of per-round ratios when the bench computes it that way. */
  ratio: number;
}

/** Appends `rows` to the summary file when there is one; a no-op otherwise. */
export async function recordSummary(rows: readonly SummaryRow[]): Promise<void> {
  const file = process.env[SUMMARY_FILE_ENV];
  if (!file || rows.length === 0) return;
  await appendFile(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
}

/** A row whose ratio is `value / baseline`. */
export function summaryRow(row: Omit<SummaryRow, "ratio">): SummaryRow {
  return { ...row, ratio: row.value / row.baseline };
}

/**
 * A row from rounds that each measured a figure and its floor (as `versusRow`): the figure's median,
 * the floor's median, and the median of the per-round ratios.
 */
export function versusSummary<R extends { floor: number }>(
  row: Pick<SummaryRow, "bench" | "measure" | "unit" | "baselineLabel">,
  rounds: readonly R[],
  pick: (r: R) => number,
): SummaryRow {
  const [, value, baseline, ratio] = versusRow(row.measure, rounds, pick) as [string, number, number, number];
  return { ...row, value, baseline, ratio };
}

/** The rows recorded in `file` (missing file: none). */
export async function readSummary(file: string): Promise<SummaryRow[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as SummaryRow);
}

/** Prints the summary: each figure, its baseline from the same run, and the ratio. */
export function printSummary(rows: readonly SummaryRow[]): void {
  printTable(
    ["bench", "measure", "unit", "value", "baseline (same run)", "baseline", "ratio"],
    rows.map((r) => [r.bench, r.measure, r.unit, r.value, r.baselineLabel, r.baseline, r.ratio]),
  );
}
