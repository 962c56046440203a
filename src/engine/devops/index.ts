/** The devops pipeline: ResourceAllocator -> EnvResolver/Readiness -> Deployer -> SmokeTest, durable. */
export type { BotProbe, DevopsDeps } from "./deps.js";
export { buildDevopsGraph } from "./graph.js";
export { localServer } from "./helpers.js";
export {
  type AdoptionFailure,
  type AdoptionReport,
  adoptLocalReleases,
  reconcileLocal,
} from "./reconcile.js";
export { LocalReleaseWatch } from "./release-watch.js";
export { latestGreenCommit, requestDeploy } from "./request.js";
export { DevopsRunner } from "./runner.js";
