import { lstat, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { AppError, type TemplateManifest } from "../../contracts/index.js";
import { readManifest, renderTemplate } from "../../templates/index.js";
import { applyAcceptanceFiles } from "./acceptance.js";
import { checkoutsRoot } from "./checkout-gc.js";
import type { EngineeringDeps } from "./deps.js";
import { HostCheckout, stageTrailer } from "./host-repo.js";
import { agentsFile, taskFile } from "./prompts.js";
import type { EngineeringStateValue, EngineeringUpdate, RepoState } from "./state.js";

/** The branch a change request is built on. */
export function changeBranch(runId: string): string {
  return `change/${runId.slice(-12)}`;
}

/**
 * Preparer (no model): makes sure the repository exists, renders the template at its pinned
 * version (first build only), writes SPEC.md, TASK.md, AGENTS.md and the Architect's acceptance
 * tests, commits and pushes. That commit is the prepared commit every reported one must descend
 * from. Replayed after a crash, it finds its own commit by the run trailer and does not commit twice.
 */
export async function preparer(
  deps: EngineeringDeps,
  state: EngineeringStateValue,
): Promise<EngineeringUpdate> {
  const { runId, projectId, input } = state;
  await deps.journal.stage(runId, "preparer");
  const project = await deps.store.projects.get(projectId);
  const template = state.template;
  if (!template || state.spec === null) {
    throw new AppError("internal", "preparer_without_spec", "the preparer ran before a spec was written");
  }
  const created = await deps.forge.createRepository({
    projectId,
    slug: project.slug,
    description: project.description.slice(0, 350),
  });
  const repo: RepoState = state.repo ?? {
    name: created.name,
    cloneUrl: created.cloneUrl,
    defaultBranch: created.defaultBranch,
    branch: created.defaultBranch,
  };
  const trailer = stageTrailer(runId, "preparer");
  const checkout = await HostCheckout.open(
    checkoutsRoot(deps.workDir),
    await deps.forge.orchestratorAccess(repo),
  );
  try {
    const onBranch = await checkout.checkoutRemoteBranch(repo.branch);
    const head = onBranch ? await checkout.git(["log", "-1", "--format=%B"]) : "";
    let committed: string | null = null;
    if (!head.includes(trailer)) {
      if (input.mode === "change") {
        if (!(await checkout.checkoutRemoteBranch(repo.defaultBranch))) {
          throw new AppError(
            "conflict",
            "repository_empty",
            `${repo.name} has no ${repo.defaultBranch} branch to change`,
          );
        }
        await checkout.git(["checkout", "--quiet", "-B", repo.branch]);
      } else if (onBranch) {
        throw new AppError(
          "conflict",
          "repository_not_empty",
          `${repo.name} already has code; send a change request`,
        );
      } else {
        await renderInto(checkout.dir, template, project);
      }
      const manifest = await readManifest(checkout.dir);
      if (!manifest.acceptance || !state.acceptanceFiles) {
        throw new AppError(
          "invalid",
          "acceptance_not_declared",
          `${manifest.name} declares no acceptance tests, or the architect wrote none`,
        );
      }
      await applyAcceptanceFiles(checkout, manifest.acceptance.dir, state.acceptanceFiles);
      await checkout.writeFiles({
        "SPEC.md": state.spec,
        "TASK.md": taskFile({
          mode: input.mode,
          text: input.text,
          runId,
          acceptanceDir: manifest.acceptance.dir,
          answers: input.answers,
        }),
        "AGENTS.md": agentsFile({
          installCommand: manifest.commands.install,
          testCommand: manifest.commands.test,
          acceptance: manifest.acceptance,
          toolReference: deps.toolReference,
          conventions: await readConventions(checkout.dir, manifest, (message) =>
            deps.journal.log(runId, message),
          ),
        }),
      });
      const title =
        input.mode === "build" ? `Start ${project.name} from the ${template} template` : "Plan the change";
      committed = await checkout.commitAll(title, trailer);
      await checkout.push(repo.branch);
    }
    const manifest = await readManifest(checkout.dir);
    const sha = committed ?? (await checkout.git(["rev-parse", "HEAD"]));
    if (input.mode === "build") {
      await deps.store.projects.update(projectId, {
        repositoryUrl: repo.cloneUrl,
        template: manifest.name,
        templateVersion: manifest.version,
      });
    }
    await deps.journal.log(runId, `prepared ${repo.name} at ${sha.slice(0, 12)} on ${repo.branch}`, {
      commit: sha,
      branch: repo.branch,
    });
    return { repo, manifest, template: manifest.name, preparedCommit: sha, acceptanceFiles: null };
  } finally {
    await checkout.dispose();
  }
}

/** The most of a template's conventions file that goes into AGENTS.md. */
const CONVENTIONS_MAX_BYTES = 32 * 1024;

/**
 * The template's own section of AGENTS.md (`manifest.conventions`), read from the checkout so a
 * change request sees the project's current copy. Only a regular file is read: in a change the
 * repository is the developer's work, and a symlink would make this host process copy whatever it
 * points at (a key file) into a commit. A missing, linked or oversized file is said in the run's
 * journal and left out: the generic part still guides the developer.
 */
export async function readConventions(
  dir: string,
  manifest: Pick<TemplateManifest, "conventions">,
  note: (message: string) => Promise<unknown>,
): Promise<string | null> {
  if (!manifest.conventions) return null;
  const file = join(dir, manifest.conventions);
  const isFile = await lstat(file).then(
    (stats) => stats.isFile(),
    () => false,
  );
  const text = isFile ? await readFile(file, "utf8").catch(() => null) : null;
  if (text === null) {
    await note(
      `${manifest.conventions} (the template's conventions) is missing or not a plain file: AGENTS.md has the generic part only`,
    );
    return null;
  }
  if (Buffer.byteLength(text) > CONVENTIONS_MAX_BYTES) {
    await note(`${manifest.conventions} is over ${CONVENTIONS_MAX_BYTES} bytes: left out of AGENTS.md`);
    return null;
  }
  return text;
}

/** Renders the template beside the checkout, then moves its files in (the render wants an empty folder). */
async function renderInto(
  dir: string,
  template: string,
  project: { name: string; slug: string; description: string },
): Promise<void> {
  const staging = `${dir}.render`;
  await renderTemplate({
    template,
    into: staging,
    variables: {
      projectName: project.name,
      slug: project.slug,
      description: project.description.slice(0, 2000),
    },
  });
  for (const entry of await readdir(staging)) await rename(join(staging, entry), join(dir, entry));
  await rm(staging, { recursive: true, force: true });
}
