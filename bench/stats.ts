/** Percentile of a sample (nearest rank); the sample need not be sorted. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Milliseconds taken by `fn`. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Prints rows as an aligned text table. */
export function printTable(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === "number" ? formatNumber(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? "").length)));
  const line = (r: (string | number)[]) => r.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join("  ");
  console.log(line(cells[0] as string[]));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells.slice(1)) console.log(line(r));
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return "n/a";
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** A table row: label, then median, min and max of `values`. */
export function spreadRow(label: string, values: readonly number[]): (string | number)[] {
  return [label, percentile(values, 50), percentile(values, 0), percentile(values, 100)];
}

/**
 * A table row comparing a measure with the floor measured in the same rounds: its median, the
 * floor's median, and the median of the per-round ratios (each round divided by its own floor, so a
 * noisy machine affects both sides alike). Rounds without a finite floor are left out of the ratio.
 */
export function versusRow<R extends { floor: number }>(
  label: string,
  rounds: readonly R[],
  pick: (r: R) => number,
): (string | number)[] {
  const measured = rounds.filter((r) => Number.isFinite(r.floor));
  return [
    label,
    percentile(rounds.map(pick), 50),
    percentile(
      measured.map((r) => r.floor),
      50,
    ),
    percentile(
      measured.map((r) => pick(r) / r.floor),
      50,
    ),
  ];
}
