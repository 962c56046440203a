import { Annotation } from "@langchain/langgraph";
import type {
  EngineeringRunInput,
  EngineeringRunResult,
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
  code: string;
  message: string;
  question: string | null;
  commit: string | null;
}

const keep = <T>(initial: T) => Annotation<T>({ reducer: (_old, next) => next, default: () => initial });

/**
 * The engineering graph's state, checkpointed after every stage. Everything a stage needs to be
 * resumed by another process is here; nothing lives only in memory.
 */
export const EngineeringState = Annotation.Root({
  runId: keep<string>(""),
  projectId: keep<string>(""),
  input: keep<EngineeringRunInput>({ mode: "build", text: "" }),
  spec: keep<string | null>(null),
  template: keep<string | null>(null),
  manifest: keep<TemplateManifest | null>(null),
  repo: keep<RepoState | null>(null),
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
    commit: outcome.commit,
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
