import { checkoutsRoot } from "./checkout-gc.js";
import type { EngineeringDeps } from "./deps.js";
import { HostCheckout } from "./host-repo.js";
import type { EngineeringStateValue, EngineeringUpdate } from "./state.js";

/**
 * Merge (no model, change requests only): fast-forwards the default branch to exactly the commit
 * the Tester saw green, so what lands is what was tested. If the default branch moved meanwhile the
 * run stops `blocked` rather than landing an untested merge. A replay finds the commit already there.
 */
export async function merge(deps: EngineeringDeps, state: EngineeringStateValue): Promise<EngineeringUpdate> {
  const { runId, repo, lastTest } = state;
  if (!repo || !lastTest?.passed) throw new Error("merge stage without a green test");
  await deps.journal.stage(runId, "merge");
  const commit = lastTest.commit;
  const checkout = await HostCheckout.open(
    checkoutsRoot(deps.workDir),
    await deps.forge.orchestratorAccess(repo),
  );
  try {
    await checkout.checkoutRemoteBranch(repo.defaultBranch);
    await checkout.checkoutRemoteBranch(repo.branch);
    await checkout.git(["checkout", "--quiet", repo.defaultBranch]);
    const merged = await checkout
      .git(["merge-base", "--is-ancestor", commit, repo.defaultBranch])
      .then(() => true)
      .catch(() => false);
    if (!merged) {
      const fastForward = await checkout
        .git(["merge", "--quiet", "--ff-only", commit])
        .then(() => true)
        .catch(() => false);
      if (!fastForward) {
        return {
          outcome: {
            status: "blocked",
            code: "default_branch_moved",
            message: `${repo.defaultBranch} moved while the change was built; ${repo.branch} is green at ${commit} but was not merged`,
            question: null,
            commit: null,
          },
        };
      }
      await checkout.push(repo.defaultBranch);
    }
    await deps.journal.log(
      runId,
      `merged ${repo.branch} into ${repo.defaultBranch} at ${commit.slice(0, 12)}`,
      {
        commit,
      },
    );
    return {
      outcome: {
        status: "succeeded",
        code: "merged",
        message: `tests green at ${commit.slice(0, 12)}, merged into ${repo.defaultBranch}`,
        question: null,
        commit,
      },
    };
  } finally {
    await checkout.dispose();
  }
}
