import { describe, expect, it } from "vitest";
import { AppError } from "../contracts/index.js";
import type { RunJournal } from "../events/index.js";
import { type RunnableGraph, runGraph } from "./graph-run.js";

/** A graph with no checkpoint whose first step throws `error`. */
function failingGraph(error: Error): RunnableGraph<{ outcome: string }> {
  return {
    getState: async () => ({ next: [], values: {} }),
    invoke: async () => {
      throw error;
    },
  };
}

const journal = { log: async () => undefined } as unknown as RunJournal;
const run = (error: Error) =>
  runGraph(failingGraph(error), "run-1", async () => ({}), { signal: new AbortController().signal, journal });

describe("runGraph", () => {
  it("leaves the run to resume from its checkpoint when the database went away under a stage", async () => {
    // A PostgreSQL restart is not the run's failure: it failed with database_error before.
    const lost = new AppError("unavailable", "database_unavailable", "the database is unavailable");
    expect(await run(lost)).toBeNull();
  });

  it("ends the run with the code of any other failure", async () => {
    const broken = new AppError("conflict", "branch_missing", "no branch");
    expect(await run(broken)).toEqual({
      final: null,
      error: { code: "branch_missing", message: "a stage failed: no branch" },
    });
    expect(await run(new Error("boom"))).toEqual({
      final: null,
      error: { code: "stage_error", message: "a stage failed: boom" },
    });
  });
});
