/** The engineering pipeline: Architect -> Preparer -> Developer <-> Tester [-> merge], durable. */

export {
  type CheckoutOwners,
  checkoutsGcJob,
  collectCheckouts,
  disposeWorkDir,
  processWorkDir,
} from "./checkout-gc.js";
export type { EngineeringDeps } from "./deps.js";
export { buildEngineeringGraph } from "./graph.js";
export { changeBranch } from "./preparer.js";
export { architectPrompt, developerPrompt, revisionPrompt } from "./prompts.js";
export { answerEngineering, requestEngineering } from "./request.js";
export { EngineeringRunner } from "./runner.js";
