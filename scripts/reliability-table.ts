/**
 * Prints the reliability table from the lines the suites recorded (`test/reliability/tally.ts`):
 * one row per thing tried, and totals per suite. Usage: tsx scripts/reliability-table.ts FILE
 */
import { existsSync, readFileSync } from "node:fs";
import { TallyRow } from "../test/reliability/tally.js";

const file = process.argv[2];
if (!file) {
  console.error("usage: tsx scripts/reliability-table.ts TALLY_FILE");
  process.exit(2);
}
const rows = existsSync(file)
  ? readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => TallyRow.parse(JSON.parse(line)))
  : [];
if (rows.length === 0) {
  console.log("reliability: no suite recorded anything");
  process.exit(0);
}

const table: string[][] = [["suite", "what", "tried", "failures"]];
for (const row of rows) table.push([row.suite, row.what, String(row.tried), String(row.failures)]);
const suites = [...new Set(rows.map((row) => row.suite))];
for (const suite of suites) {
  const mine = rows.filter((row) => row.suite === suite);
  const sum = (key: "tried" | "failures") => mine.reduce((total, row) => total + row[key], 0);
  table.push([suite, "total", String(sum("tried")), String(sum("failures"))]);
}
const widths = table[0]?.map((_, col) => Math.max(...table.map((row) => row[col]?.length ?? 0))) ?? [];
const line = (row: string[]) =>
  row
    .map((cell, col) => (col >= 2 ? cell.padStart(widths[col] ?? 0) : cell.padEnd(widths[col] ?? 0)))
    .join("  ");
console.log("\nreliability");
console.log(line(table[0] ?? []));
console.log(widths.map((width) => "-".repeat(width)).join("  "));
for (const row of table.slice(1)) console.log(line(row));
