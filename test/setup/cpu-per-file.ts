/**
 * Setup file of the services suites: records the CPU seconds each file cost (its process and the
 * processes it started and waited for: orchestrator roles, npm, git, sandboxes), so a run's log
 * says where the machine's time went, not only the wall time, which the other files' load inflates.
 * Written as JSON lines to the file CPU_TALLY names; nothing is recorded without it.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { afterAll, expect } from "vitest";

const TICKS_PER_SECOND = 100;

/** utime + stime + cutime + cstime of this process, in seconds (Linux /proc). */
function cpuSeconds(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14-17 of stat(5), counted from the state field (3).
  return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0) / TICKS_PER_SECOND;
}

const file = process.env.CPU_TALLY;
// At the top: a setup file is evaluated again before each test file, so importing it counts too.
const before = cpuSeconds();
afterAll(() => {
  const path = expect.getState().testPath;
  if (!file || !path) return;
  const cpu = Math.round(cpuSeconds() - before);
  appendFileSync(file, `${JSON.stringify({ file: relative(process.cwd(), path), cpu })}\n`);
});
