import { Annotation } from "@langchain/langgraph";
import type {
  EngineeringRunInput,
  EngineeringRunResult,
  RunOutcomeCode,
  TemplateManifest,
  TestVerdict,
  WorkerReport,
} from "../../contracts/index.js";

/** Where the pipeline's code lives: the repository on the forge and the branch being worked on. */
export interface RepoState {
  name: string;
  cloneUrl: string;
  defaultBranch: string;
  /** `main` for a build, `change/<run>` for a change request. */
  branch: string;
}

/** A terminal outcome decided by a stage; the runner writes it to the run. */
export interface Outcome {
  status: "succeeded" | "failed" | "blocked";
  code: RunOutcomeCode;
  message: string;
  question: string | null;
  /** The green commit: set only by the stages that succeed. */
  commit: string | null;
}

/**
 * Acceptance files the Architect wrote, by repository path: the content, or null for a file it
 * deleted. The Preparer (and a revision) writes exactly these into the acceptance folder.
 */
export type AcceptanceFiles = Record<string, string | null>;

/** The Architect's answer to the developer's question about an acceptance test. */
export interface AcceptanceAnswer {
  /** 1 for the first question of the run. */
  number: number;
  /** The revision commit, or null when the Architect kept the tests as they were. */
  commit: string | null;
  answer: string;
  files: string[];
}

/** The input of a state not yet initialised (never a run's real input). */
export const EMPTY_INPUT: EngineeringRunInput = {
  mode: "build",
  text: "",
  continues: null,
  answers: [],
  resumeAt: null,
};

const keep = <T>(initial: T) => Annotation<T>({ reducer: (_old, next) => next, default: () => initial });

/**
 * The engineering graph's state, checkpointed after every stage. Everything a stage needs to be
 * resumed by another process is here; nothing lives only in memory.
 */
export const EngineeringState = Annotation.Root({
  runId: keep<string>(""),
  projectId: keep<string>(""),
  input: keep<EngineeringRunInput>(EMPTY_INPUT),
  spec: keep<string | null>(null),
  template: keep<string | null>(null),
  manifest: keep<TemplateManifest | null>(null),
  /** The Architect's acceptance tests, until the Preparer has committed them. */
  acceptanceFiles: keep<AcceptanceFiles | null>(null),
  repo: keep<RepoState | null>(null),
  /** The acceptance baseline: the Preparer's commit, then each acceptance revision's. */
  preparedCommit: keep<string | null>(null),
  /** Acceptance questions answered so far (bounded per run). */
  acceptanceRevisions: keep<number>(0),
  /** The answer the developer has not been told yet (cleared by its next turn). */
  acceptanceAnswer: keep<AcceptanceAnswer | null>(null),
  /** The last commit the Tester found on the remote and ran. */
  lastTestedCommit: keep<string | null>(null),
  developerWorkerId: keep<string | null>(null),
  iteration: keep<number>(0),
  lastReport: keep<WorkerReport | null>(null),
  lastTest: keep<TestVerdict | null>(null),
  outcome: keep<Outcome | null>(null),
});
export type EngineeringStateValue = typeof EngineeringState.State;
export type EngineeringUpdate = typeof EngineeringState.Update;

/** The run's `result` for a terminal state. */
export function resultOf(state: EngineeringStateValue, outcome: Outcome): EngineeringRunResult {
  return {
    outcome: outcome.status,
    commit: outcome.status === "succeeded" ? outcome.commit : null,
    lastTestedCommit: state.lastTestedCommit,
    reportedCommit: state.lastReport?.commit ?? null,
    preparedCommit: state.preparedCommit,
    acceptanceRevisions: state.acceptanceRevisions,
    branch: state.repo?.branch ?? null,
    repository: state.repo?.cloneUrl ?? null,
    template: state.template,
    iterations: state.iteration,
    question: outcome.question,
    lastReport: state.lastReport,
    lastTest: state.lastTest,
    summary: outcome.message,
  };
}
