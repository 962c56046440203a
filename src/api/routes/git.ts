import { principalForToken } from "../../auth/index.js";
import { AgentRole, AppError } from "../../contracts/index.js";
import { registerGitHttp, type ServedForge } from "../../git/index.js";
import type { Store } from "../../store/index.js";
import type { Api } from "../context.js";

/** The agent roles whose worker tokens may push to their project's repository; the others only clone. */
export const GIT_WRITER_ROLES: ReadonlySet<AgentRole> = new Set<AgentRole>([
  AgentRole.enum.developer,
  AgentRole.enum.architect,
]);

/**
 * Whether `token` may read (`write: false`) or push to (`write: true`) the repository named
 * `repoName`: an admin token reaches every repository; a worker token only its own project's (the
 * repository is named after the project's slug), pushing only for the roles in `GIT_WRITER_ROLES`;
 * a user token none.
 * An unknown or revoked token, or one whose project is gone, may do nothing.
 */
export async function authorizeGit(
  store: Store,
  token: string,
  repoName: string,
  write: boolean,
): Promise<boolean> {
  const principal = await principalForToken(store, token);
  if (!principal) return false;
  if (principal.kind === "admin") return true;
  // People reach their projects through tools; repositories are the agents' working copies.
  if (principal.kind !== "worker") return false;
  let slug: string;
  try {
    slug = (await store.projects.get(principal.projectId)).slug;
  } catch (error) {
    if (error instanceof AppError && error.kind === "not_found") return false;
    throw error;
  }
  if (slug !== repoName) return false;
  return !write || GIT_WRITER_ROLES.has(principal.role);
}

/**
 * Serves the forge's repositories over git smart HTTP at `/git/<slug>.git/*`, authorized by
 * `authorizeGit`. Git sends the API token as Basic auth (`x-access-token:<token>`), not as a bearer
 * token, so these routes do their own auth (see `registerGitHttp`).
 */
export async function registerGitRoutes(app: Api, deps: { store: Store; forge: ServedForge }): Promise<void> {
  await registerGitHttp(app, {
    forge: deps.forge,
    authorize: (token, repoName, write) => authorizeGit(deps.store, token, repoName, write),
  });
}
