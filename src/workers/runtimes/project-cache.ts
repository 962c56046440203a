import { join } from "node:path";
import { AppError } from "../../contracts/index.js";

/**
 * Per-project caches that outlive sandboxes: `<cacheRoot>/<projectId>/npm` on the node, bound into
 * every sandbox of that project and into no other, so one project's code cannot poison another's.
 * Sandbox collection never touches them (they are not inside any sandbox folder).
 */

/** Default cache root under a runtime's own root: a dot name is never a sandbox and sweeps skip it. */
export const CACHES_DIR = ".caches";

/** Where a sandbox's commands see their project's npm cache (bubblewrap and containers). */
export const SANDBOX_NPM_CACHE = "/var/cache/npm";

const PROJECT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The host folder of a project's npm cache; the project id must be one safe path segment. */
export function npmCacheDir(cacheRoot: string, projectId: string): string {
  if (!PROJECT_ID.test(projectId)) {
    throw new AppError("invalid", "invalid_input", "project id is not usable as a folder name", {
      details: [{ path: "projectId", message: "letters, digits, '_', '.', '-' only" }],
    });
  }
  return join(cacheRoot, projectId, "npm");
}
