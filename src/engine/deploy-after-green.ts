import type { Bus } from "../bus/index.js";
import { EngineeringRunResult, nullIfNotFound, type RunEvent } from "../contracts/index.js";
import { RunEventSubscriber, type RunJournal } from "../events/index.js";
import type { Logger } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { requestDeploy } from "./devops/request.js";

/** The durable subscriber name (its cursor and bus consumer group). */
export const DEPLOY_AFTER_GREEN = "deploy-after-green";

/** What the reaction needs: where runs are read and where the deploy run is queued. */
export interface DeployAfterGreenDeps {
  store: Store;
  bus: Bus;
  journal: RunJournal;
  logger: Logger;
}

/**
 * Queues the deploy of a green engineering run's commit when its `succeeded` event is seen. Safe to
 * repeat: `requestDeploy` queues at most one deploy per source run. A project busy with another
 * deploy makes it throw, so the event is retried until that deploy ends.
 */
export async function deployAfterGreen(deps: DeployAfterGreenDeps, event: RunEvent): Promise<void> {
  if (event.type !== "run.status_changed" || event.data.to !== "succeeded") return;
  const run = await deps.store.runs.get(event.runId).catch(nullIfNotFound);
  if (run?.kind !== "engineering" || run.status !== "succeeded") return;
  const result = EngineeringRunResult.safeParse(run.result);
  const commit = result.success ? result.data.commit : null;
  if (!commit) return;
  const deploy = await requestDeploy(deps, {
    projectId: run.projectId,
    action: "deploy",
    commit,
    sourceRunId: run.id,
  }).catch(nullIfNotFound);
  if (deploy) deps.logger.info({ runId: run.id, deployRunId: deploy.id }, "deploy after green queued");
}

/**
 * The subscriber that deploys every green engineering run, at least once per `succeeded` event and
 * after a restart too (it replays from its cursor). The engine role starts and stops it.
 */
export function deployAfterGreenSubscriber(
  deps: DeployAfterGreenDeps,
  opts: { gapHoldMs?: number; sweepEveryMs?: number } = {},
): RunEventSubscriber {
  return new RunEventSubscriber({
    name: DEPLOY_AFTER_GREEN,
    types: ["run.status_changed"],
    handle: (event) => deployAfterGreen(deps, event),
    store: deps.store,
    bus: deps.bus,
    logger: deps.logger,
    ...opts,
  });
}
