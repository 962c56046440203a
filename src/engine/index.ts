/**
 * The engine module's public face: LangGraph.js graphs, the durable checkpointer that keeps their
 * state in our `Store`, and the executor that leases runs and resumes them after a crash.
 */

export {
  BUDGET_EXHAUSTED,
  budgetFor,
  cancelRun,
  ensureBudget,
  grantBudget,
  pauseForBudget,
  spendOf,
} from "./budget.js";
export { StoreCheckpointSaver } from "./checkpointer.js";
export {
  DEPLOY_AFTER_GREEN,
  type DeployAfterGreenDeps,
  deployAfterGreen,
  deployAfterGreenSubscriber,
} from "./deploy-after-green.js";
export * from "./devops/index.js";
export * from "./engineering/index.js";
export { RunExecutor, type RunExecutorOptions, triggerRun } from "./run-executor.js";
