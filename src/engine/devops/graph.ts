import { END, START, StateGraph } from "@langchain/langgraph";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { allocate } from "./allocate.js";
import { deployer } from "./deployer.js";
import type { DevopsDeps } from "./deps.js";
import { environment } from "./environment.js";
import { smoke } from "./smoke.js";
import { DevopsState, type DevopsStateValue } from "./state.js";
import { teardown } from "./teardown.js";

const unlessDone = (next: string) => (state: DevopsStateValue) => (state.outcome ? END : next);

/**
 * The devops graph: ResourceAllocator -> EnvResolver/Readiness -> Deployer -> SmokeTest, or a
 * teardown. Only the SmokeTest's passing gate produces a succeeded deploy.
 */
export function buildDevopsGraph(deps: DevopsDeps, checkpointer: BaseCheckpointSaver) {
  return new StateGraph(DevopsState)
    .addNode("allocate", (s) => allocate(deps, s))
    .addNode("environment", (s) => environment(deps, s))
    .addNode("deployer", (s) => deployer(deps, s))
    .addNode("smoke", (s) => smoke(deps, s))
    .addNode("teardown", (s) => teardown(deps, s))
    .addConditionalEdges(START, (s) => (s.input.action === "teardown" ? "teardown" : "allocate"), [
      "teardown",
      "allocate",
    ])
    .addConditionalEdges("allocate", unlessDone("environment"), ["environment", END])
    .addConditionalEdges("environment", unlessDone("deployer"), ["deployer", END])
    .addConditionalEdges("deployer", unlessDone("smoke"), ["smoke", END])
    .addEdge("smoke", END)
    .addEdge("teardown", END)
    .compile({ checkpointer });
}
