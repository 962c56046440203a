import { END, START, StateGraph } from "@langchain/langgraph";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { tracedStage } from "../stage-span.js";
import { allocate } from "./allocate.js";
import { build } from "./deployer.js";
import type { DevopsDeps } from "./deps.js";
import { environment } from "./environment.js";
import { rollback } from "./rollback.js";
import { record, startAndGate } from "./smoke.js";
import { DevopsState, type DevopsStateValue } from "./state.js";
import { teardown } from "./teardown.js";

const unlessDone = (next: string) => (state: DevopsStateValue) => (state.outcome ? END : next);
const unlessFailed = (next: string) => (state: DevopsStateValue) => (state.failure ? "rollback" : next);

/**
 * The devops graph, read as a runbook: allocate -> environment and readiness -> build -> start ->
 * health gate -> record; a release that fails to start or fails its gate goes to rollback, which
 * restores the previous release. Or a teardown. Only a passed gate produces a succeeded deploy.
 */
export function buildDevopsGraph(deps: DevopsDeps, checkpointer: BaseCheckpointSaver) {
  const release = startAndGate(deps);
  return new StateGraph(DevopsState)
    .addNode(
      "allocate",
      tracedStage("allocate", (s: DevopsStateValue) => allocate(deps, s)),
    )
    .addNode(
      "environment",
      tracedStage("environment", (s: DevopsStateValue) => environment(deps, s)),
    )
    .addNode(
      "build",
      tracedStage("build", (s: DevopsStateValue) => build(deps, s)),
    )
    .addNode(
      "start",
      tracedStage("start", (s: DevopsStateValue) => release.start(s)),
    )
    .addNode(
      "healthGate",
      tracedStage("healthGate", (s: DevopsStateValue) => release.gate(s)),
    )
    .addNode(
      "rollback",
      tracedStage("rollback", (s: DevopsStateValue) => rollback(deps, s)),
    )
    .addNode(
      "record",
      tracedStage("record", (s: DevopsStateValue) => record(deps, s)),
    )
    .addNode(
      "teardown",
      tracedStage("teardown", (s: DevopsStateValue) => teardown(deps, s)),
    )
    .addConditionalEdges(START, (s) => (s.input.action === "teardown" ? "teardown" : "allocate"), [
      "teardown",
      "allocate",
    ])
    .addConditionalEdges("allocate", unlessDone("environment"), ["environment", END])
    .addConditionalEdges("environment", unlessDone("build"), ["build", END])
    .addConditionalEdges("build", unlessDone("start"), ["start", END])
    .addConditionalEdges("start", unlessFailed("healthGate"), ["healthGate", "rollback"])
    .addConditionalEdges("healthGate", unlessFailed("record"), ["record", "rollback"])
    .addEdge("rollback", END)
    .addEdge("record", END)
    .addEdge("teardown", END)
    .compile({ checkpointer });
}
