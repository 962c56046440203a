import { releasePorts } from "../../deploy/allocation/index.js";
import type { DevopsDeps } from "./deps.js";
import { currentDeployment, moveProject } from "./helpers.js";
import type { DevopsStateValue, DevopsUpdate } from "./state.js";

/** `project.teardown`: stops what runs, frees every port; the repository and releases stay. */
export async function teardown(deps: DevopsDeps, state: DevopsStateValue): Promise<DevopsUpdate> {
  const { runId, input } = state;
  await deps.journal.stage(runId, "teardown");
  const current = await currentDeployment(deps.store, input.projectId);
  const server = current?.serverId ? await deps.store.servers.get(current.serverId) : null;
  await deps.driver.stop(input.projectId, deps.driver.kind === "local" ? null : server);
  const freed = await releasePorts(deps.store, input.projectId);
  await moveProject(deps.store, input.projectId, "stopped");
  return {
    outcome: {
      status: "succeeded",
      code: "torn_down",
      message: `stopped; ${freed} port(s) freed; the repository is kept`,
      missing: [],
      url: null,
      botUsername: null,
      restoredPrevious: false,
    },
  };
}
