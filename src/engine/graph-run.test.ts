import type { RunnableConfig } from "@langchain/core/runnables";
import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import type { Checkpoint, CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { describe, expect, it } from "vitest";
import { AppError } from "../contracts/index.js";
import type { RunJournal } from "../events/index.js";
import { type RunnableGraph, runGraph } from "./graph-run.js";

/** A graph with no checkpoint whose first step throws `error`. */
function failingGraph(error: Error): RunnableGraph<{ outcome: string }> {
  return {
    getState: async () => ({ next: [], tasks: [], values: {} }),
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

const TwoStages = Annotation.Root({
  spec: Annotation<string | undefined>(),
  outcome: Annotation<string | undefined>(),
});

/** A saver whose process "dies" (throws) on its checkpoint number `diesAt`, until revived. */
class DyingSaver extends MemorySaver {
  private puts = 0;
  revived = false;
  constructor(private readonly diesAt: number) {
    super();
  }
  override async put(config: RunnableConfig, c: Checkpoint, m: CheckpointMetadata) {
    this.puts += 1;
    if (!this.revived && this.puts >= this.diesAt) throw new Error("process killed");
    return super.put(config, c, m);
  }
}

/** A stage that writes the spec, then a stage that decides the outcome; counts how often each ran. */
function twoStages(saver: MemorySaver, ran: Record<string, number>) {
  const graph = new StateGraph(TwoStages)
    .addNode("architect", () => {
      ran.architect = (ran.architect ?? 0) + 1;
      return { spec: "the spec" };
    })
    .addNode("decide", (s) => {
      ran.decide = (ran.decide ?? 0) + 1;
      return { outcome: `built from ${s.spec}` };
    })
    .addEdge(START, "architect")
    .addEdge("architect", "decide")
    .addEdge("decide", END)
    .compile({ checkpointer: saver });
  return graph as unknown as RunnableGraph<typeof TwoStages.State>;
}

describe("runGraph after a process died between a stage's writes and the next checkpoint", () => {
  // Checkpoints: 1 the input, 2 before `architect`, 3 after it, 4 after `decide`. Dying at 3 leaves
  // `architect`'s writes saved and no checkpoint after them: LangGraph's `next` is then empty although
  // the graph has not ended (the run used to end "no_outcome"). Stages run while the previous
  // checkpoint is written, so a stage after the lost checkpoint ran too, and its writes were lost.
  const RERUN_AFTER_DEATH_AT: Record<number, Record<string, number>> = {
    2: { architect: 1, decide: 1 },
    3: { decide: 1 },
    4: {},
  };
  it.each([2, 3, 4])("resumes to the outcome when checkpoint %i was never written", async (diesAt) => {
    const saver = new DyingSaver(diesAt);
    const ran: Record<string, number> = {};
    const opts = { signal: new AbortController().signal, journal };
    const first = await runGraph(twoStages(saver, ran), "run-1", async () => ({}), opts);
    expect(first?.error?.message).toBe("a stage failed: process killed");

    saver.revived = true;
    for (const stage of Object.keys(ran)) delete ran[stage];
    const logged: string[] = [];
    const resumed = await runGraph(twoStages(saver, ran), "run-1", async () => ({}), {
      ...opts,
      journal: {
        log: async (_: string, message: string) => void logged.push(message),
      } as unknown as RunJournal,
    });
    expect(resumed).toEqual({ final: { spec: "the spec", outcome: "built from the spec" }, error: null });
    expect(logged).toEqual([expect.stringMatching(/^resuming from checkpoint/)]);
    // A stage whose writes were saved is not run again; one whose writes were lost is.
    expect(ran).toEqual(RERUN_AFTER_DEATH_AT[diesAt]);
  });
});
