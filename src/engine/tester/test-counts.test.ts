import { describe, expect, it } from "vitest";
import { readTestCounts } from "./test-counts.js";

describe("readTestCounts", () => {
  it("reads vitest, with colours", () => {
    const out =
      "\u001b[2m      Tests \u001b[22m \u001b[1m\u001b[31m3 failed\u001b[39m | \u001b[32m12 passed\u001b[39m | 1 skipped (16)\n";
    expect(readTestCounts(out)).toEqual({ passed: 12, failed: 3, skipped: 1, runner: "vitest" });
    expect(readTestCounts(" Test Files  1 passed (1)\n      Tests  4 passed (4)\n")).toMatchObject({
      passed: 4,
      failed: 0,
    });
  });
  it("reads jest", () => {
    expect(readTestCounts("Tests:       1 failed, 2 skipped, 5 passed, 8 total\n")).toEqual({
      passed: 5,
      failed: 1,
      skipped: 2,
      runner: "jest",
    });
  });
  it("reads node's test runner, TAP and spec", () => {
    expect(readTestCounts("# tests 6\n# pass 5\n# fail 1\n# skipped 0\n")).toEqual({
      passed: 5,
      failed: 1,
      skipped: 0,
      runner: "node:test",
    });
    expect(readTestCounts("ℹ tests 3\nℹ pass 3\nℹ fail 0\nℹ todo 1\n")).toEqual({
      passed: 3,
      failed: 0,
      skipped: 1,
      runner: "node:test",
    });
  });
  it("reads mocha and pytest", () => {
    expect(readTestCounts("  7 passing (30ms)\n  2 failing\n")).toEqual({
      passed: 7,
      failed: 2,
      skipped: 0,
      runner: "mocha",
    });
    expect(readTestCounts("===== 2 failed, 10 passed, 1 skipped in 0.12s =====\n")).toEqual({
      passed: 10,
      failed: 2,
      skipped: 1,
      runner: "pytest",
    });
  });
  it("takes the last summary and says nothing when there is none", () => {
    expect(readTestCounts("# pass 1\n# fail 1\nretry\n# pass 2\n# fail 0\n")).toMatchObject({
      passed: 2,
      failed: 0,
    });
    expect(readTestCounts("all good, trust me\n")).toBeNull();
  });
});
