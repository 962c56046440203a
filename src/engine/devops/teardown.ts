import { releasePorts } from "../../deploy/index.js";
import type { DevopsDeps } from "./deps.js";
import { moveProject } from "./helpers.js";
import type { DevopsStateValue, DevopsUpdate } from "./state.js";

/**
 * `project.teardown`: stops what runs, marks the deployment that served `stopped` (its URL no
 * longer answers, so nothing offers it as live), frees every port, gives a pool bot back and keeps
 * or deletes the project's data as the person chose; the repository and releases stay.
 */
export async function teardown(deps: DevopsDeps, state: DevopsStateValue): Promise<DevopsUpdate> {
  const { runId, input } = state;
  await deps.journal.stage(runId, "teardown");
  // The newest attempt says where the project runs (a failed one may have left a container).
  const [latest] = (await deps.store.deployments.list({ projectId: input.projectId, limit: 1, offset: 0 }))
    .items;
  const server = latest?.serverId ? await deps.store.servers.get(latest.serverId) : null;
  const deleteData = input.data === "delete";
  await deps.driver.teardown(input.projectId, server, { deleteData });
  const serving = await deps.store.deployments.list({
    projectId: input.projectId,
    status: "healthy",
    limit: 100,
    offset: 0,
  });
  for (const deployment of serving.items) await deps.store.deployments.finish(deployment.id, "stopped", {});
  const freed = await releasePorts(deps.store, input.projectId);
  // The bot stopped with the release; a pool bot is free for the next project (webhook removed).
  const returned = await deps.bots?.giveBack(input.projectId, `deploy ${runId}`);
  await moveProject(deps.store, input.projectId, "stopped");
  return {
    outcome: {
      status: "succeeded",
      code: "torn_down",
      message: `stopped; ${freed} port(s) freed;${returned ? ` @${returned.botUsername} is back in the pool;` : ""} its data is ${deleteData ? "deleted" : "kept"}; the repository is kept`,
      missing: [],
      url: null,
      botUsername: null,
      restoredPrevious: false,
    },
  };
}
