import { END, START, StateGraph } from "@langchain/langgraph";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { tracedStage } from "../stage-span.js";
import { architect } from "./architect.js";
import type { EngineeringDeps } from "./deps.js";
import { asksAboutAcceptance, developer } from "./developer.js";
import { merge } from "./merge.js";
import { preparer } from "./preparer.js";
import { resume } from "./resume.js";
import { revise } from "./revise.js";
import { EngineeringState, type EngineeringStateValue } from "./state.js";
import { tester } from "./tester.js";

/** After a stage that can end the run: stop when it decided an outcome. */
const unlessDone = (next: string) => (state: EngineeringStateValue) => (state.outcome ? END : next);

/** After the Developer: a question about an acceptance test -> Architect; a report -> Tester. */
const afterDeveloper = (state: EngineeringStateValue) => {
  if (state.outcome) return END;
  return asksAboutAcceptance(state) ? "revise" : "tester";
};

/** After the Tester: green -> merge (change) or done; red -> Developer again, up to the bound. */
function afterTest(deps: EngineeringDeps) {
  return (state: EngineeringStateValue) => {
    if (state.lastTest?.passed) return state.input.mode === "change" ? "merge" : "succeed";
    return state.iteration >= deps.maxIterations ? "exhausted" : "developer";
  };
}

/** A continuation of a run that had prepared the repository goes on at the Developer (`resume`). */
const fromStart = (state: EngineeringStateValue) => (state.input.resumeAt ? "resume" : "architect");

/**
 * The engineering graph: Architect -> Preparer -> Developer <-> Tester (bounded) [-> merge], with
 * the Developer's questions about acceptance tests answered by the Architect (`revise`, bounded).
 * A continuation with a resume point enters at `resume` -> Developer, on the branch it names.
 * A run can only succeed through `succeed` or `merge`, both reached only from a green Tester
 * verdict on a pushed commit; every other way out carries a failed or blocked outcome.
 */
export function buildEngineeringGraph(deps: EngineeringDeps, checkpointer: BaseCheckpointSaver) {
  return new StateGraph(EngineeringState)
    .addNode(
      "architect",
      tracedStage("architect", (s: EngineeringStateValue) => architect(deps, s)),
    )
    .addNode(
      "preparer",
      tracedStage("preparer", (s: EngineeringStateValue) => preparer(deps, s)),
    )
    .addNode(
      "developer",
      tracedStage("developer", (s: EngineeringStateValue) => developer(deps, s)),
    )
    .addNode(
      "revise",
      tracedStage("revise", (s: EngineeringStateValue) => revise(deps, s)),
    )
    .addNode(
      "resume",
      tracedStage("resume", (s: EngineeringStateValue) => resume(deps, s)),
    )
    .addNode(
      "tester",
      tracedStage("tester", (s: EngineeringStateValue) => tester(deps, s)),
    )
    .addNode(
      "merge",
      tracedStage("merge", (s: EngineeringStateValue) => merge(deps, s)),
    )
    .addNode("succeed", (s) => ({
      outcome: {
        status: "succeeded" as const,
        code: "tests_green",
        message: `tests green at ${s.lastTest?.commit.slice(0, 12)} on ${s.repo?.branch}`,
        question: null,
        commit: s.lastTest?.commit ?? null,
      },
    }))
    .addNode("exhausted", (s) => ({
      outcome: {
        status: "blocked" as const,
        code: "tests_still_failing",
        message: `tests still failing after ${s.iteration} attempts (last: ${s.lastTest?.reason ?? "red"})`,
        question: null,
        commit: null,
      },
    }))
    .addConditionalEdges(START, fromStart, ["resume", "architect"])
    .addEdge("resume", "developer")
    .addConditionalEdges("architect", unlessDone("preparer"), ["preparer", END])
    .addEdge("preparer", "developer")
    .addConditionalEdges("developer", afterDeveloper, ["revise", "tester", END])
    .addConditionalEdges("revise", unlessDone("developer"), ["developer", END])
    .addConditionalEdges("tester", afterTest(deps), ["merge", "succeed", "developer", "exhausted"])
    .addEdge("merge", END)
    .addEdge("succeed", END)
    .addEdge("exhausted", END)
    .compile({ checkpointer });
}
