import { appendFileSync } from "node:fs";
import { z } from "zod";

/**
 * One line of the reliability table: what was tried, how many times, and how many of those went
 * wrong. Each reliability suite records its own lines; the table is printed after the run.
 */
export const TallyRow = z.object({
  /** The suite the line comes from ("kills", "restarts", "fuzz", "authorization", "orphans"). */
  suite: z.string().min(1),
  /** What was tried, e.g. "kill -9 of an engine mid-run" or "malformed JSON to POST /api/projects". */
  what: z.string().min(1),
  /** How many attempts (kills, inputs, requests, checks). */
  tried: z.number().int().nonnegative(),
  /** How many of them broke the rule the suite checks (the suite's assertions fail on any). */
  failures: z.number().int().nonnegative(),
});
export type TallyRow = z.infer<typeof TallyRow>;

/** Where `npm run test:reliability` and `npm test` collect the lines (unset: nothing is recorded). */
export const TALLY_ENV = "RELIABILITY_TALLY";

/** Records one line of the table; a no-op when the run collects none (a single file run by hand). */
export function tally(row: TallyRow): void {
  const file = process.env[TALLY_ENV];
  if (!file) return;
  appendFileSync(file, `${JSON.stringify(TallyRow.parse(row))}\n`);
}
