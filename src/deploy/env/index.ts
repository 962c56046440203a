/** Environment resolution: a template's environment contract turned into a release's variables. */
export {
  type ComputedEnv,
  describeEnvironment,
  type EnvEntryStatus,
  type EnvResolution,
  resolveEnvironment,
} from "./resolve.js";
