import { LocalDriver } from "../../deploy/drivers/local/index.js";
import type { DevopsDeps } from "./deps.js";
import { currentDeployment, environmentFor, localServer, manifestAt } from "./helpers.js";

/**
 * After an orchestrator restart, starts again every local release that was running: the driver's
 * own record says which release and port, the environment is resolved afresh from the vault.
 * Returns the projects brought back; a project that cannot be is logged and left stopped.
 */
export async function reconcileLocal(deps: DevopsDeps, root: string): Promise<string[]> {
  const restored: string[] = [];
  for (const recorded of await LocalDriver.recorded(root)) {
    try {
      const project = await deps.store.projects.get(recorded.projectId);
      const current = await currentDeployment(deps.store, project.id);
      if (!current || current.release !== recorded.release) continue;
      const release = (await deps.driver.releases(project.id, null)).find((r) => r.id === recorded.release);
      if (!release) continue;
      const manifest = await manifestAt(deps, project.slug, recorded.commit);
      const server = await localServer(deps.store);
      const entry = manifest.env.find((e) => e.kind === "allocated-port");
      const ports = entry && recorded.port !== null ? { [entry.name]: recorded.port } : {};
      const env = await environmentFor(deps, { projectId: project.id, manifest, server, ports });
      if (!env.ok) {
        deps.logger.warn(
          { projectId: project.id, missing: env.missing },
          "cannot restore a release: settings missing",
        );
        continue;
      }
      await deps.driver.run({
        release,
        env: env.env,
        port: recorded.port,
        manifest,
        slug: project.slug,
        server: null,
      });
      restored.push(project.id);
    } catch (error) {
      deps.logger.error({ err: error, projectId: recorded.projectId }, "cannot restore a release");
    }
  }
  if (restored.length > 0) deps.logger.info({ projects: restored }, "restored running releases");
  return restored;
}
