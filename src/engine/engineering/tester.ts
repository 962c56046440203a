import type { TestVerdict } from "../../contracts/index.js";
import { readTestCounts } from "../tester/test-counts.js";
import { type EngineeringDeps, terminateWorkersOf } from "./deps.js";
import { cloneIntoWorkspace } from "./sandbox-git.js";
import type { EngineeringStateValue, EngineeringUpdate } from "./state.js";

const TAIL_LINES = 60;
const TAIL_CHARS = 8_000;

function tailOf(text: string): string {
  const lines = text.trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
  return lines.length > TAIL_CHARS ? lines.slice(-TAIL_CHARS) : lines;
}

/**
 * Tester (no model): a fresh sandbox, a fresh clone of exactly the reported commit, the template's
 * install and test commands, parsed counts. It never trusts the agent: a commit that is not on the
 * remote branch, an install that fails, a non-zero test exit, a failed test or no test at all is red.
 */
export async function tester(
  deps: EngineeringDeps,
  state: EngineeringStateValue,
): Promise<EngineeringUpdate> {
  const { runId, projectId, repo, manifest } = state;
  if (!repo || !manifest) throw new Error("tester stage without a repository");
  await deps.journal.stage(runId, "tester", { iteration: state.iteration });
  const started = Date.now();
  const claimed = state.lastReport?.commit ?? null;
  const verdict = (v: Omit<TestVerdict, "durationMs" | "commit"> & { commit?: string }): TestVerdict => ({
    commit: claimed ?? "",
    ...v,
    durationMs: Date.now() - started,
  });

  let result: TestVerdict;
  if (!claimed) {
    result = verdict({
      passed: false,
      reason: "no_commit",
      counts: null,
      exitCode: null,
      outputTail: "the developer reported no commit",
    });
  } else {
    await terminateWorkersOf(deps, runId, projectId, "tester");
    const worker = await deps.workers.create({ role: "tester", projectId, runId, backend: "none" });
    try {
      result = await testCommit(deps, worker.id, repo, manifest, claimed, verdict);
    } finally {
      await deps.workers.terminate(worker.id, "tester stage done").catch(() => undefined);
    }
  }
  await deps.journal.event({
    runId,
    type: "engineering.tested",
    data: { iteration: state.iteration, ...result },
  });
  return { lastTest: result };
}

async function testCommit(
  deps: EngineeringDeps,
  workerId: string,
  repo: NonNullable<EngineeringStateValue["repo"]>,
  manifest: NonNullable<EngineeringStateValue["manifest"]>,
  claimed: string,
  verdict: (v: Omit<TestVerdict, "durationMs" | "commit"> & { commit?: string }) => TestVerdict,
): Promise<TestVerdict> {
  const exec = (argv: string[], timeoutMs = 60_000) => deps.workers.exec(workerId, argv, { timeoutMs });
  await cloneIntoWorkspace(deps.workers, workerId, repo.cloneUrl, repo.branch);
  const resolved = await exec(["git", "rev-parse", "--verify", "--quiet", `${claimed}^{commit}`]);
  const commit = resolved.stdout.trim();
  const onForge = resolved.exitCode === 0 && (await deps.forge.hasCommit(repo, commit));
  if (!onForge) {
    return verdict({
      passed: false,
      reason: "not_on_remote",
      counts: null,
      exitCode: null,
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
      counts: null,
      exitCode: null,
      outputTail: `commit ${commit} is on the remote but not on branch ${repo.branch}`,
    });
  }
  await exec(["git", "checkout", "--quiet", "--detach", commit]);

  const install = await exec(manifest.commands.install, deps.installTimeoutMs);
  const installOut = `$ ${manifest.commands.install.join(" ")}\n${install.stdout}\n${install.stderr}`;
  if (install.exitCode !== 0) {
    return verdict({
      commit,
      passed: false,
      reason: install.timedOut ? "install_timeout" : "install_failed",
      counts: null,
      exitCode: install.exitCode,
      outputTail: tailOf(installOut),
    });
  }
  const test = await exec(manifest.commands.test, deps.testTimeoutMs);
  const testOut = `${test.stdout}\n${test.stderr}`;
  const counts = readTestCounts(testOut);
  const tail = tailOf(`$ ${manifest.commands.test.join(" ")}\n${testOut}`);
  let reason: string | null = null;
  if (test.timedOut) reason = "test_timeout";
  else if (test.exitCode !== 0) reason = "tests_failed";
  else if (counts && counts.failed > 0) reason = "tests_failed";
  else if (counts && counts.passed === 0) reason = "no_tests";
  return verdict({
    commit,
    passed: reason === null,
    reason,
    counts,
    exitCode: test.exitCode,
    outputTail: tail,
  });
}
