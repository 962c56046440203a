import {
  EngineeringRunInput,
  type EngineeringRunInput as EngineeringRunInputType,
  type EngineeringRunResult,
  type Run,
} from "../../src/contracts/index.js";
import type { Store } from "../../src/store/index.js";

/** The commit a blocked run's preparer made, where it got that far. */
export const PREPARED_COMMIT = "b".repeat(40);

/** A result as the engineering runner writes it for a blocked run, prepared (on `branch`) or not. */
export function blockedResult(
  question: string | null,
  prepared: { branch: string } | null,
): EngineeringRunResult {
  return {
    outcome: "blocked",
    commit: null,
    lastTestedCommit: null,
    reportedCommit: null,
    preparedCommit: prepared ? PREPARED_COMMIT : null,
    acceptanceRevisions: 0,
    branch: prepared?.branch ?? null,
    repository: prepared ? "http://forge/x.git" : null,
    template: prepared ? "web-service" : null,
    iterations: prepared ? 1 : 0,
    question,
    lastReport: null,
    lastTest: null,
    summary: question ? `needs an answer: ${question}` : "tests still failing",
  };
}

/** An engineering run that ended blocked with `result`, as the runner leaves it. */
export async function blockedRun(
  store: Store,
  projectId: string,
  input: Partial<EngineeringRunInputType>,
  result: EngineeringRunResult,
): Promise<Run> {
  const run = await store.runs.create({
    projectId,
    kind: "engineering",
    input: EngineeringRunInput.parse({ mode: "build", text: "a weather bot", ...input }),
  });
  await store.runs.transition(run.id, "running");
  return store.runs.transition(run.id, "blocked", {
    result,
    error: { code: result.question ? "developer_question" : "tests_still_failing", message: result.summary },
  });
}
