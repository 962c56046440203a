import { AppError } from "../../contracts/index.js";
import { allocatePorts, pickServer } from "../../deploy/index.js";
import type { DevopsDeps } from "./deps.js";
import { currentDeployment, localServer, manifestAt, targetOf } from "./helpers.js";
import type { DevopsStateValue, DevopsUpdate } from "./state.js";

/**
 * ResourceAllocator: decides what is deployed (the commit asked for, or for a rollback the one that
 * served before the current), reads its manifest from the repository at that commit, picks the
 * server and allocates the ports its environment contract declares, atomically.
 */
export async function allocate(deps: DevopsDeps, state: DevopsStateValue): Promise<DevopsUpdate> {
  const { runId, input } = state;
  await deps.journal.stage(runId, "allocate");
  const project = await deps.store.projects.get(input.projectId);
  const current = await currentDeployment(deps.store, project.id);
  let commit = input.commit;
  if (input.action === "rollback") {
    const page = await deps.store.deployments.list({ projectId: project.id, limit: 50, offset: 0 });
    const previous = page.items.find((d) => d.status === "superseded" && d.commitSha !== current?.commitSha);
    if (!previous) {
      return {
        outcome: {
          status: "failed",
          code: "nothing_to_roll_back_to",
          message: "no earlier healthy release of this project to return to",
          missing: [],
          url: null,
          botUsername: null,
          restoredPrevious: false,
        },
      };
    }
    commit = previous.commitSha;
  }
  if (!commit) throw new AppError("invalid", "invalid_input", "a deploy needs a commit");
  const manifest = await manifestAt(deps, project.slug, commit);
  const server = deps.driver.needsServer
    ? await pickServer({ store: deps.store, resources: manifest.resources, projectId: project.id })
    : await localServer(deps.store);
  const target = targetOf(deps.driver, server).server;
  const services = manifest.env.filter((e) => e.kind === "allocated-port").map((e) => e.name);
  const ports =
    services.length === 0 // a bot listens on nothing
      ? {}
      : await allocatePorts({
          store: deps.store,
          serverId: server.id,
          projectId: project.id,
          services,
          range: deps.portRange,
          // A port another program holds (on this machine or the server) is passed by.
          isFree: (port) => deps.driver.isPortFree(port, target),
        });
  await deps.journal.log(runId, `deploying ${commit.slice(0, 12)} to ${server.handle}`, { commit, ports });
  // What a failed attempt restores: the current release, if it runs (after a teardown nothing does).
  const serving = current && (await deps.driver.isRunning(project.id, target)) ? current.id : null;
  return { commit, manifest, serverId: server.id, ports, previousDeploymentId: serving };
}
