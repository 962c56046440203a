/**
 * The checkpointer suite every store driver runs: LangGraph's own validation suite
 * (`@langchain/langgraph-checkpoint-validation`) against `StoreCheckpointSaver`, plus a real graph
 * that stops mid-run, loses its process state (store closed) and resumes on a reopened store.
 */
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { validate } from "@langchain/langgraph-checkpoint-validation";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../store/index.js";
import { StoreCheckpointSaver } from "./checkpointer.js";

// The validation suite calls vitest's functions as globals; this project does not enable globals.
Object.assign(globalThis, { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it });

/** Removes every checkpoint from the store, so each validation group starts empty (it lists all threads). */
async function clearCheckpoints(store: Store): Promise<void> {
  const threads = new Set((await store.checkpoints.list({})).map((c) => c.threadId));
  for (const threadId of threads) await store.checkpoints.deleteThread(threadId);
}

const State = Annotation.Root({
  log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

interface Calls {
  one: number;
  two: number;
  three: number;
}

/** A three-node line; `failThree` makes node three crash on its first call (a process dying mid-run). */
function buildGraph(saver: StoreCheckpointSaver, calls: Calls, opts: { interruptBeforeThree: boolean }) {
  return new StateGraph(State)
    .addNode("one", () => {
      calls.one += 1;
      return { log: ["one"] };
    })
    .addNode("two", () => {
      calls.two += 1;
      return { log: ["two"] };
    })
    .addNode("three", () => {
      calls.three += 1;
      if (!opts.interruptBeforeThree && calls.three === 1) throw new Error("crashed in three");
      return { log: ["three"] };
    })
    .addEdge(START, "one")
    .addEdge("one", "two")
    .addEdge("two", "three")
    .addEdge("three", END)
    .compile({ checkpointer: saver, interruptBefore: opts.interruptBeforeThree ? ["three"] : [] });
}

/**
 * `open` gives a store on an empty or shared database (the suite clears checkpoints itself);
 * `reopen(key)` opens the same durable database again after the previous store was closed.
 */
export function runCheckpointerSuite(
  name: string,
  open: () => Promise<Store>,
  reopen: { first: (key: string) => Promise<Store>; again: (key: string) => Promise<Store> },
): void {
  describe(`StoreCheckpointSaver on ${name}`, () => {
    let store: Store | undefined;
    const stores = new WeakMap<StoreCheckpointSaver, Store>();
    validate({
      checkpointerName: `StoreCheckpointSaver (${name})`,
      beforeAllTimeout: 60_000,
      async beforeAll() {
        store = await open();
      },
      async afterAll() {
        await store?.close();
      },
      async createCheckpointer() {
        if (!store) throw new Error("store not open");
        await clearCheckpoints(store);
        const saver = new StoreCheckpointSaver(store.checkpoints);
        stores.set(saver, store);
        return saver;
      },
      async destroyCheckpointer(saver) {
        const owner = stores.get(saver);
        if (owner) await clearCheckpoints(owner);
      },
    });

    for (const mode of ["interrupt", "crash"] as const) {
      it(`resumes a graph after a ${mode} on a reopened store without re-running finished nodes`, async () => {
        const key = `graph-${mode}`;
        const calls: Calls = { one: 0, two: 0, three: 0 };
        const config = { configurable: { thread_id: `thread-${mode}` } };
        const interruptBeforeThree = mode === "interrupt";

        const first = await reopen.first(key);
        try {
          const graph = buildGraph(new StoreCheckpointSaver(first.checkpoints), calls, {
            interruptBeforeThree,
          });
          if (interruptBeforeThree) {
            await graph.invoke({ log: ["start"] }, config);
          } else {
            await expect(graph.invoke({ log: ["start"] }, config)).rejects.toThrow("crashed in three");
          }
          const state = await graph.getState(config);
          expect(state.next).toEqual(["three"]);
          expect(state.values.log).toEqual(["start", "one", "two"]);
        } finally {
          await first.close();
        }
        expect(calls).toEqual({ one: 1, two: 1, three: interruptBeforeThree ? 0 : 1 });

        const second = await reopen.again(key);
        try {
          const graph = buildGraph(new StoreCheckpointSaver(second.checkpoints), calls, {
            interruptBeforeThree,
          });
          const result = await graph.invoke(null, config);
          expect(result.log).toEqual(["start", "one", "two", "three"]);
          expect((await graph.getState(config)).next).toEqual([]);
          const history = [];
          for await (const snapshot of graph.getStateHistory(config)) history.push(snapshot);
          expect(history.length).toBeGreaterThanOrEqual(4);
        } finally {
          await second.close();
        }
        // Finished nodes did not run again; node three completed exactly once.
        expect(calls).toEqual({ one: 1, two: 1, three: interruptBeforeThree ? 1 : 2 });
      });
    }
  });
}
