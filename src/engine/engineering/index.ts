/** The engineering pipeline: Architect -> Preparer -> Developer <-> Tester [-> merge], durable. */
export type { EngineeringDeps } from "./deps.js";
export { buildEngineeringGraph } from "./graph.js";
export { changeBranch } from "./preparer.js";
export { parsePromptHeader } from "./prompts.js";
export { requestEngineering } from "./request.js";
export { EngineeringRunner } from "./runner.js";
export {
  architectScript,
  demoPlaybook,
  developerScript,
  loadPlaybook,
  playbookScriptFor,
  ScriptedPlaybook,
  timeAcceptanceFiles,
  timeRouteFiles,
} from "./scripted-playbook.js";
