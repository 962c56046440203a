/**
 * The demo's public face: the playbook the `scripted` agent plays in an engineering run (used by
 * `up --demo`, the `scripted-playbook` command, tests and benchmarks). The engine never imports it.
 */
export {
  architectScript,
  demoPlaybook,
  developerScript,
  loadPlaybook,
  playbookScriptFor,
  ScriptedPlaybook,
  timeAcceptanceFiles,
  timeRouteFiles,
} from "./playbook.js";
