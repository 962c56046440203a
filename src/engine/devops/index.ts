/** The devops pipeline: ResourceAllocator -> EnvResolver/Readiness -> Deployer -> SmokeTest, durable. */
export type { BotProbe, DevopsDeps } from "./deps.js";
export { buildDevopsGraph } from "./graph.js";
export { localServer } from "./helpers.js";
export { reconcileLocal } from "./reconcile.js";
export { latestGreenCommit, requestDeploy } from "./request.js";
export { DevopsRunner } from "./runner.js";
