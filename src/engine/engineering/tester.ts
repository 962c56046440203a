import { TEMPLATE_MANIFEST_FILE, type TestRedReason, type TestVerdict } from "../../contracts/index.js";
import { readTestCounts } from "../tester/test-counts.js";
import type { EngineeringDeps } from "./deps.js";
import { onFreshWorker } from "./node-loss.js";
import { cloneIntoWorkspace } from "./sandbox-git.js";
import type { EngineeringStateValue, EngineeringUpdate } from "./state.js";
import { checkManifest, inspectCommit } from "./tester-checks.js";

const TAIL_LINES = 60;
const TAIL_CHARS = 8_000;

function tailOf(text: string, maxLines = TAIL_LINES, maxChars = TAIL_CHARS): string {
  const lines = text.trimEnd().split("\n").slice(-maxLines).join("\n");
  return lines.length > maxChars ? lines.slice(-maxChars) : lines;
}

type Repo = NonNullable<EngineeringStateValue["repo"]>;
type Manifest = NonNullable<EngineeringStateValue["manifest"]>;
type VerdictOf = (
  v: Partial<TestVerdict> & Pick<TestVerdict, "passed" | "reason" | "outputTail">,
) => TestVerdict;

/**
 * Tester (no model): a fresh sandbox, a fresh clone of exactly the reported commit, checked
 * against the prepared commit, then the template's install and test commands and the acceptance
 * command, with the acceptance folder as prepared. It never trusts the agent: a commit that is not
 * on the remote branch, is the prepared one or does not descend from it, changes only
 * documentation or touches the acceptance tests, an install that fails, a non-zero exit, a failed
 * test, no test at all or no passing acceptance test is red. A sandbox lost with its workers node
 * is not a verdict: the test is run again in a fresh one (see `retryOnNodeLoss`).
 */
export async function tester(
  deps: EngineeringDeps,
  state: EngineeringStateValue,
): Promise<EngineeringUpdate> {
  const { runId, projectId, repo, manifest, preparedCommit } = state;
  if (!repo || !manifest || !preparedCommit) throw new Error("tester stage before the preparer");
  await deps.journal.stage(runId, "tester", { iteration: state.iteration });
  const started = Date.now();
  const claimed = state.lastReport?.commit ?? null;
  const verdict: VerdictOf = (v) => ({
    commit: claimed ?? "",
    counts: null,
    exitCode: null,
    preparedCommit,
    changedAcceptance: [],
    acceptanceCounts: null,
    ran: false,
    ...v,
    durationMs: Date.now() - started,
  });

  let result: TestVerdict;
  if (!claimed) {
    result = verdict({ passed: false, reason: "no_commit", outputTail: "the developer reported no commit" });
  } else {
    // A lost node takes the checkout with it: the whole test is redone in a fresh sandbox.
    result = await onFreshWorker(
      deps,
      { runId, projectId, stage: "tester", role: "tester", backend: "none" },
      (worker) => testCommit(deps, worker.id, { repo, manifest, preparedCommit, claimed }, verdict),
    );
  }
  await deps.journal.append({
    runId,
    type: "engineering.tested",
    data: { iteration: state.iteration, ...result },
  });
  return { lastTest: result, ...(result.ran ? { lastTestedCommit: result.commit } : {}) };
}

async function testCommit(
  deps: EngineeringDeps,
  workerId: string,
  opts: { repo: Repo; manifest: Manifest; preparedCommit: string; claimed: string },
  verdict: VerdictOf,
): Promise<TestVerdict> {
  const { repo, manifest, preparedCommit, claimed } = opts;
  const acceptance = manifest.acceptance;
  if (!acceptance) throw new Error("tester stage for a template without acceptance tests");
  const exec = (argv: string[], timeoutMs = 60_000) => deps.workers.exec(workerId, argv, { timeoutMs });
  await cloneIntoWorkspace(deps.workers, workerId, repo.cloneUrl, repo.branch);
  const resolved = await exec(["git", "rev-parse", "--verify", "--quiet", `${claimed}^{commit}`]);
  const commit = resolved.stdout.trim();
  const onForge = resolved.exitCode === 0 && (await deps.forge.hasCommit(repo, commit));
  if (!onForge) {
    return verdict({
      passed: false,
      reason: "not_on_remote",
      outputTail: `commit ${claimed} is not on the remote: was it pushed?`,
    });
  }
  const onBranch = await exec([
    "git",
    "merge-base",
    "--is-ancestor",
    commit,
    `refs/remotes/origin/${repo.branch}`,
  ]);
  if (onBranch.exitCode !== 0) {
    return verdict({
      commit,
      passed: false,
      reason: "not_on_branch",
      outputTail: `commit ${commit} is on the remote but not on branch ${repo.branch}`,
    });
  }
  const inspection = await inspectCommit((args) => exec(["git", ...args]), {
    prepared: preparedCommit,
    commit,
    acceptanceDir: acceptance.dir,
  });
  const changedAcceptance = inspection.changedAcceptance;
  if (inspection.reason && inspection.reason !== "acceptance_changed") {
    return verdict({
      commit,
      passed: false,
      reason: inspection.reason,
      outputTail: inspection.message ?? "",
    });
  }
  await exec(["git", "checkout", "--quiet", "--detach", commit]);
  const manifestProblem = checkManifest((await exec(["cat", "--", TEMPLATE_MANIFEST_FILE])).stdout, commit);
  if (manifestProblem) {
    return verdict({
      commit,
      passed: false,
      reason: "manifest_invalid",
      outputTail: manifestProblem,
      changedAcceptance,
    });
  }
  // The acceptance tests run as prepared, whatever the commit did to them.
  await exec(["git", "rm", "-r", "-q", "--ignore-unmatch", "--", acceptance.dir]);
  await exec(["rm", "-rf", "--", acceptance.dir]);
  const restored = await exec(["git", "checkout", preparedCommit, "--", acceptance.dir]);
  if (restored.exitCode !== 0)
    throw new Error(`could not restore ${acceptance.dir}: ${restored.stderr.trim()}`);
  const note = inspection.message ? `${inspection.message}; the tester ran the prepared copy.\n` : "";

  const install = await exec(manifest.commands.install, deps.installTimeoutMs);
  if (install.exitCode !== 0) {
    const out = `$ ${manifest.commands.install.join(" ")}\n${install.stdout}\n${install.stderr}`;
    return verdict({
      commit,
      passed: false,
      reason: inspection.reason ?? (install.timedOut ? "install_timeout" : "install_failed"),
      exitCode: install.exitCode,
      outputTail: note + tailOf(out),
      changedAcceptance,
      ran: true,
    });
  }
  const test = await exec(manifest.commands.test, deps.testTimeoutMs);
  const testOut = `${test.stdout}\n${test.stderr}`;
  const counts = readTestCounts(testOut);
  const accepted = await exec(acceptance.test, deps.testTimeoutMs);
  const acceptedOut = `${accepted.stdout}\n${accepted.stderr}`;
  const acceptanceCounts = readTestCounts(acceptedOut);

  let reason: TestRedReason | null = inspection.reason;
  if (reason) {
    // red already: the acceptance tests were changed
  } else if (test.timedOut) reason = "test_timeout";
  else if (test.exitCode !== 0 || (counts && counts.failed > 0)) reason = "tests_failed";
  else if (counts && counts.passed === 0) reason = "no_tests";
  else if (accepted.timedOut) reason = "acceptance_timeout";
  else if (accepted.exitCode !== 0 || (acceptanceCounts && acceptanceCounts.failed > 0)) {
    reason = "acceptance_failed";
  } else if (!acceptanceCounts || acceptanceCounts.passed === 0) reason = "no_acceptance_tests";
  const half = TAIL_LINES / 2;
  return verdict({
    commit,
    passed: reason === null,
    reason,
    counts,
    exitCode: test.exitCode,
    outputTail: [
      note + tailOf(`$ ${manifest.commands.test.join(" ")}\n${testOut}`, half, TAIL_CHARS / 2),
      tailOf(`$ ${acceptance.test.join(" ")}\n${acceptedOut}`, half, TAIL_CHARS / 2),
    ].join("\n"),
    changedAcceptance,
    acceptanceCounts,
    ran: true,
  });
}
