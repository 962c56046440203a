import { AppError, TEMPLATE_MANIFEST_FILE } from "../../contracts/index.js";
import { parseManifest } from "../../templates/index.js";
import type { EngineeringDeps } from "./deps.js";
import type { EngineeringStateValue, EngineeringUpdate, RepoState } from "./state.js";

/**
 * Resume (no model): a continuation of a run that had prepared the repository goes on where that
 * run stopped: on its branch, against its acceptance baseline, with the person's answers. The
 * Architect's spec and acceptance tests stand (the developer may still question a test, and the
 * Architect then sees the answers too); the Preparer does not run again, since for a build it would
 * find the repository holding code and stop, and for a change it would start a new branch from the
 * default one and lose the work already pushed.
 */
export async function resume(
  deps: EngineeringDeps,
  state: EngineeringStateValue,
): Promise<EngineeringUpdate> {
  const { runId, projectId, input } = state;
  const at = input.resumeAt;
  if (!at) throw new Error("resume stage without a resume point");
  await deps.journal.stage(runId, "resume");
  const project = await deps.store.projects.get(projectId);
  if (!project.repositoryUrl) {
    throw new AppError("conflict", "not_built_yet", `project ${project.slug} has no repository to resume in`);
  }
  const ref = { name: project.slug };
  const repo: RepoState = {
    name: project.slug,
    cloneUrl: project.repositoryUrl,
    defaultBranch: await deps.forge.defaultBranch(ref),
    branch: at.branch,
  };
  const head = await deps.forge.listCommits(ref, { branch: at.branch, limit: 1 });
  if (head.length === 0 || !(await deps.forge.hasCommit(ref, at.preparedCommit))) {
    throw new AppError(
      "conflict",
      "branch_missing",
      `${repo.name} no longer holds branch ${at.branch} at ${at.preparedCommit.slice(0, 12)}`,
      { details: [{ path: "resumeAt", message: "start the work again with engineering.start" }] },
    );
  }
  const text = await deps.forge.readFile(ref, at.preparedCommit, TEMPLATE_MANIFEST_FILE);
  if (text === null) {
    throw new AppError(
      "invalid",
      "manifest_missing",
      `${repo.name} has no ${TEMPLATE_MANIFEST_FILE} at ${at.preparedCommit.slice(0, 12)}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new AppError(
      "invalid",
      "manifest_invalid",
      `${TEMPLATE_MANIFEST_FILE} in ${repo.name} is not JSON`,
      {
        cause,
      },
    );
  }
  const manifest = parseManifest(raw, `in ${repo.name} at ${at.preparedCommit.slice(0, 12)}`);
  await deps.journal.log(
    runId,
    `continuing run ${input.continues ?? "?"} on ${at.branch} from ${at.preparedCommit.slice(0, 12)}`,
    { commit: at.preparedCommit, branch: at.branch },
  );
  return { repo, manifest, template: manifest.name, preparedCommit: at.preparedCommit };
}
