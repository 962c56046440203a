import {
  ACCEPTANCE_REVISIONS_PER_RUN,
  applyAcceptanceFiles,
  readAcceptanceFiles,
  restoreAcceptanceDir,
} from "./acceptance.js";
import { outcomeOfTurn } from "./architect.js";
import { checkoutsRoot } from "./checkout-gc.js";
import type { EngineeringDeps } from "./deps.js";
import { HostCheckout, stageTrailer } from "./host-repo.js";
import { onFreshWorker } from "./node-loss.js";
import { revisionPrompt } from "./prompts.js";
import { cloneIntoWorkspace, execOk } from "./sandbox-git.js";
import type { AcceptanceAnswer, EngineeringStateValue, EngineeringUpdate, Outcome } from "./state.js";

/**
 * Revise (Architect, model): the developer says an acceptance test is wrong. The Architect sees
 * the branch with the acceptance folder as prepared and either fixes the tests (only that folder
 * is taken; the engine commits and pushes it on the branch with a trailer, records an
 * `engineering.acceptance_revised` event, and the revision becomes the acceptance baseline) or
 * keeps them and says why. Either way the developer's next turn gets the answer; the attempt it
 * asked in is not used up. Replayed after a crash, it finds its revision commit by the trailer.
 */
export async function revise(
  deps: EngineeringDeps,
  state: EngineeringStateValue,
): Promise<EngineeringUpdate> {
  const { runId, repo, manifest, preparedCommit, lastReport } = state;
  const dir = manifest?.acceptance?.dir;
  if (!repo || !dir || !preparedCommit || !lastReport?.acceptanceTest || !lastReport.question) {
    throw new Error("revise stage without a question about an acceptance test");
  }
  const number = state.acceptanceRevisions + 1;
  await deps.journal.stage(runId, "acceptance_revision", { revision: number });
  const trailer = stageTrailer(runId, `acceptance-revision-${number}`);
  const found = await findRevision(deps, repo, trailer);
  const answer = found ?? (await askArchitect(deps, state, { dir, number, trailer }));
  if ("stop" in answer) return { outcome: answer.stop };
  if (answer.commit) {
    await deps.journal.append({
      runId,
      type: "engineering.acceptance_revised",
      data: {
        revision: number,
        commit: answer.commit,
        previousCommit: preparedCommit,
        test: lastReport.acceptanceTest,
        reason: lastReport.question,
        answer: answer.answer,
        files: answer.files,
      },
    });
  } else {
    await deps.journal.log(runId, `the architect kept the acceptance tests: ${answer.answer}`, {
      revision: number,
      test: lastReport.acceptanceTest,
    });
  }
  // The developer's question is answered: a replayed developer stage must not take it again.
  if (state.developerWorkerId) await deps.store.workers.setReport(state.developerWorkerId, null);
  return {
    acceptanceRevisions: number,
    acceptanceAnswer: answer,
    preparedCommit: answer.commit ?? preparedCommit,
  };
}

type Repo = NonNullable<EngineeringStateValue["repo"]>;

/** The revision commit this stage already pushed before a restart, with its answer; null when none. */
async function findRevision(
  deps: EngineeringDeps,
  repo: Repo,
  trailer: string,
): Promise<AcceptanceAnswer | null> {
  const checkout = await HostCheckout.open(
    checkoutsRoot(deps.workDir),
    await deps.forge.orchestratorAccess(repo),
  );
  try {
    if (!(await checkout.checkoutRemoteBranch(repo.branch))) return null;
    const [runLine, stageLine] = trailer.split("\n");
    const sha = await checkout.git([
      "log",
      "-1",
      "--format=%H",
      "--fixed-strings",
      "--all-match",
      `--grep=${runLine}`,
      `--grep=${stageLine}`,
    ]);
    if (!sha) return null;
    const body = await checkout.git(["log", "-1", "--format=%b", sha]);
    const files = await checkout.git(["show", "--name-only", "--format=", sha]);
    const number = Number(/acceptance-revision-(\d+)/.exec(trailer)?.[1] ?? 0);
    return {
      number,
      commit: sha,
      answer: body.replace(/^Orchestrator-.*$/gm, "").trim() || "revised",
      files: files.split("\n").filter(Boolean),
    };
  } finally {
    await checkout.dispose();
  }
}

/** Asks the Architect in a fresh sandbox; commits and pushes what it changed in the acceptance folder. */
async function askArchitect(
  deps: EngineeringDeps,
  state: EngineeringStateValue,
  opts: { dir: string; number: number; trailer: string },
): Promise<AcceptanceAnswer | { stop: Outcome }> {
  const { runId, projectId } = state;
  const repo = state.repo as Repo;
  const prepared = state.preparedCommit as string;
  const report = state.lastReport;
  const config = await deps.store.agentConfigs.get("architect");
  // A lost node loses the turn: a fresh worker judges the tests again (nothing was pushed yet).
  return onFreshWorker(
    deps,
    {
      runId,
      projectId,
      stage: "acceptance_revision",
      role: "architect",
      backend: deps.agentBackend ?? config.backend,
    },
    async (worker) => {
      await cloneIntoWorkspace(deps.workers, worker.id, repo.cloneUrl, repo.branch);
      // The Architect judges the tests as prepared, beside the developer's code so far.
      const git = (args: string[]) => execOk(deps.workers, worker.id, ["git", ...args], `git ${args[0]}`);
      await git(["rm", "-r", "-q", "--ignore-unmatch", "--", opts.dir]);
      await execOk(deps.workers, worker.id, ["rm", "-rf", "--", opts.dir], "rm");
      await git(["checkout", prepared, "--", opts.dir]);
      const result = await deps.workers.send(
        worker.id,
        revisionPrompt({
          revision: opts.number,
          maxRevisions: ACCEPTANCE_REVISIONS_PER_RUN,
          dir: opts.dir,
          test: report?.acceptanceTest ?? "",
          question: report?.question ?? "",
          answers: state.input.answers,
        }),
        // The agent's own limit, so a caller across the bus waits as long as the turn may take.
        { timeoutMs: config.timeoutMs },
      );
      const stop = outcomeOfTurn("architect", result);
      if (stop) return { stop };
      const answer = result.report?.summary ?? "";
      const files = await readAcceptanceFiles(deps.workers, worker.id, opts.dir, prepared);
      if (Object.keys(files).length === 0) return { number: opts.number, commit: null, answer, files: [] };
      const commit = await commitRevision(deps, repo, { ...opts, prepared, files, answer });
      return { number: opts.number, commit, answer, files: Object.keys(files) };
    },
  );
}

/** On the branch head: the acceptance folder as prepared plus the Architect's changes, committed and pushed. */
async function commitRevision(
  deps: EngineeringDeps,
  repo: Repo,
  opts: {
    dir: string;
    trailer: string;
    prepared: string;
    files: Record<string, string | null>;
    answer: string;
  },
): Promise<string> {
  const checkout = await HostCheckout.open(
    checkoutsRoot(deps.workDir),
    await deps.forge.orchestratorAccess(repo),
  );
  try {
    await checkout.checkoutRemoteBranch(repo.branch);
    await restoreAcceptanceDir(checkout, opts.dir, opts.prepared);
    await applyAcceptanceFiles(checkout, opts.dir, opts.files);
    const sha = await checkout.commitAll(
      `Revise the acceptance tests\n\n${opts.answer.slice(0, 4_000)}`,
      opts.trailer,
    );
    await checkout.push(repo.branch);
    return sha;
  } finally {
    await checkout.dispose();
  }
}
