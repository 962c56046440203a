import { stripVTControlCharacters } from "node:util";

/** Tests passed, failed and skipped, as read from a test runner's output. */
export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** Which runner's summary was recognised. */
  runner: string;
}

interface Reader {
  runner: string;
  read(text: string): TestCounts | null;
}

const num = (m: RegExpExecArray | null, i = 1): number | null => (m?.[i] !== undefined ? Number(m[i]) : null);
const last = (re: RegExp, text: string): RegExpExecArray | null => {
  let found: RegExpExecArray | null = null;
  const global = new RegExp(re.source, re.flags.includes("g") ? re.flags : `${re.flags}g`);
  for (let m = global.exec(text); m; m = global.exec(text)) found = m;
  return found;
};

/** A runner whose last summary line lists "N passed", "N failed", "N skipped" in any order. */
function summaryLine(runner: string, pattern: RegExp): Reader {
  return {
    runner,
    read(text) {
      const line = last(pattern, text)?.[1];
      if (!line) return null;
      const part = (word: string) => num(new RegExp(`(\\d+) ${word}`).exec(line)) ?? 0;
      return {
        passed: part("passed"),
        failed: part("failed"),
        skipped: part("skipped") + part("todo"),
        runner,
      };
    },
  };
}

// Each reader looks for the summary its runner prints last; the first that recognises one wins.
const READERS: Reader[] = [
  // vitest: " Tests  3 failed | 12 passed | 1 skipped (16)"
  summaryLine("vitest", /^\s*Tests\s+(.*\(\d+\))\s*$/m),
  // jest: "Tests:       1 failed, 2 skipped, 5 passed, 8 total"
  summaryLine("jest", /^Tests:\s+(.*\d+ total)\s*$/m),
  {
    // node --test (TAP or spec reporter): "# pass 5" / "ℹ pass 5", "# fail 0", "# skipped 1"
    runner: "node:test",
    read(text) {
      const pass = num(last(/^(?:#|ℹ) pass (\d+)\s*$/m, text));
      const fail = num(last(/^(?:#|ℹ) fail (\d+)\s*$/m, text));
      if (pass === null || fail === null) return null;
      const skipped =
        (num(last(/^(?:#|ℹ) skipped (\d+)\s*$/m, text)) ?? 0) +
        (num(last(/^(?:#|ℹ) todo (\d+)\s*$/m, text)) ?? 0);
      return { passed: pass, failed: fail, skipped, runner: "node:test" };
    },
  },
  {
    // mocha: "  5 passing (20ms)", "  1 failing", "  2 pending"
    runner: "mocha",
    read(text) {
      const passing = num(last(/^\s*(\d+) passing\b/m, text));
      if (passing === null) return null;
      return {
        passed: passing,
        failed: num(last(/^\s*(\d+) failing\b/m, text)) ?? 0,
        skipped: num(last(/^\s*(\d+) pending\b/m, text)) ?? 0,
        runner: "mocha",
      };
    },
  },
  {
    // pytest: "==== 2 failed, 10 passed, 1 skipped in 0.12s ===="
    runner: "pytest",
    read(text) {
      const line = last(/^=+ (.*\bin [\d.]+s.*) =+$/m, text)?.[1];
      if (!line || !/passed|failed|error/.test(line)) return null;
      const part = (word: string) => num(new RegExp(`(\\d+) ${word}`).exec(line)) ?? 0;
      return {
        passed: part("passed"),
        failed: part("failed") + part("errors?"),
        skipped: part("skipped"),
        runner: "pytest",
      };
    },
  },
];

/**
 * Reads pass/fail counts from test output. Null when no known summary is found: the exit code then
 * decides alone, and the tester says the counts are unknown rather than inventing them.
 */
export function readTestCounts(output: string): TestCounts | null {
  const text = stripVTControlCharacters(output);
  for (const reader of READERS) {
    const counts = reader.read(text);
    if (counts) return counts;
  }
  return null;
}
