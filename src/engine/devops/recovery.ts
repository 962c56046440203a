import type { RecoveryContext } from "../../deploy/index.js";
import type { Job } from "../../scheduler/index.js";
import type { DevopsDeps } from "./deps.js";
import { currentDeployment, environmentFor, localServer, manifestAt, targetOf } from "./helpers.js";

/**
 * What a deploy driver reads from the deploy records when it brings releases back: the serving
 * release of a project (its healthy deployment) and how to run a release again, its manifest read
 * at the release's commit and its environment resolved afresh from the vault.
 */
export function recoveryContext(deps: DevopsDeps): RecoveryContext {
  return {
    async servingRelease(projectId) {
      return (await currentDeployment(deps.store, projectId))?.release ?? null;
    },
    async runSpecFor(projectId, release, port) {
      const project = await deps.store.projects.get(projectId);
      const current = await currentDeployment(deps.store, projectId);
      const server = current?.serverId
        ? await deps.store.servers.get(current.serverId)
        : await localServer(deps.store);
      const manifest = await manifestAt(deps, project.slug, release.commit);
      const entry = manifest.env.find((e) => e.kind === "allocated-port");
      const ports = entry && port !== null ? { [entry.name]: port } : {};
      const env = await environmentFor(deps, { projectId, manifest, server, ports });
      if (!env.ok) return { ok: false, missing: env.missing };
      const spec = {
        release,
        env: env.env,
        port,
        manifest,
        slug: project.slug,
        server: targetOf(deps.driver, server).server,
      };
      return { ok: true, spec };
    },
  };
}

/** Brings back, once at start, the releases that should run and nobody supervises; returns their projects. */
export async function recoverReleases(deps: DevopsDeps): Promise<string[]> {
  return (await deps.driver.recover(recoveryContext(deps))).recovered;
}

/**
 * The driver's periodic supervision pass (`DeployDriver.maintain`) as a scheduler job on every
 * engine process: for the local driver, yielding releases another engine took and adopting those
 * of engines that are gone; nothing for drivers whose releases need no supervision from here.
 */
export function driverMaintenanceJob(deps: DevopsDeps, intervalMs: number): Job {
  const context = recoveryContext(deps);
  deps.logger.info(
    { driver: deps.driver.kind, intervalMs },
    "supervising deploy releases: yielding taken ones, adopting those of gone engines",
  );
  return {
    name: "deploy.maintain-releases",
    intervalMs,
    scope: "every-process",
    run: () => deps.driver.maintain(context),
  };
}
