import { z } from "zod";
import { WorkerReport } from "./agent.js";
import { Id } from "./ids.js";

/** Answers a chain of continued runs may carry: each block-and-answer adds one. */
export const MAX_ENGINEERING_ANSWERS = 10;

/** A question a blocked run asked and the person's answer to it, told to the agents that follow. */
export const EngineeringAnswer = z.object({
  question: z.string().trim().min(1).max(2_000),
  answer: z.string().trim().min(1).max(4_000),
});
export type EngineeringAnswer = z.infer<typeof EngineeringAnswer>;

/**
 * Where a continuation picks up the work of the run it continues once that run had prepared the
 * repository: the branch it worked on and its acceptance baseline (the prepared commit or the
 * latest acceptance revision). The Architect and the Preparer do not run again.
 */
export const EngineeringResumePoint = z.object({
  branch: z.string().min(1).max(200),
  preparedCommit: z.string().regex(/^[0-9a-f]{7,64}$/),
});
export type EngineeringResumePoint = z.infer<typeof EngineeringResumePoint>;

/**
 * What an `engineering` run is asked to do: build a new project from a brief, or change an existing
 * one (user story US3). Stored as the run's `input`. A continuation (`engineering.answer`) repeats
 * the blocked run's mode and text and adds the person's answers.
 */
export const EngineeringRunInput = z.object({
  mode: z.enum(["build", "change"]),
  /** The brief (build) or the change request (change), in the person's words. */
  text: z.string().trim().min(1).max(20_000),
  /** The blocked run this one continues; null for a run started afresh. */
  continues: Id.nullable().default(null),
  /** Every question of the chain of blocked runs with the person's answer, oldest first. */
  answers: z.array(EngineeringAnswer).max(MAX_ENGINEERING_ANSWERS).default([]),
  /** Set when the continued run had prepared the repository: go on from there (see the type). */
  resumeAt: EngineeringResumePoint.nullable().default(null),
});
export type EngineeringRunInput = z.infer<typeof EngineeringRunInput>;

/** Tests passed, failed and skipped, as read from a test runner's summary. */
export const TestRunCounts = z.object({
  passed: z.number().int().min(0),
  failed: z.number().int().min(0),
  skipped: z.number().int().min(0),
  runner: z.string(),
});

/**
 * Why a verdict is red. The commit checks come first: `no_commit`, `not_on_remote`,
 * `not_on_branch`, `no_change` (the reported commit is the prepared one), `not_descendant`,
 * `acceptance_changed` (the acceptance folder differs from the prepared copy), `docs_only`,
 * `manifest_invalid` (the commit's `orchestrator.json`, which the deploy reads, is broken); then
 * the runs: `install_failed`/`install_timeout`, `tests_failed`/`test_timeout`/`no_tests`, and the
 * acceptance command's `acceptance_failed`/`acceptance_timeout`/`no_acceptance_tests`.
 */
export const TestRedReason = z.enum([
  "no_commit",
  "not_on_remote",
  "not_on_branch",
  "no_change",
  "not_descendant",
  "acceptance_changed",
  "docs_only",
  "manifest_invalid",
  "install_failed",
  "install_timeout",
  "tests_failed",
  "test_timeout",
  "no_tests",
  "acceptance_failed",
  "acceptance_timeout",
  "no_acceptance_tests",
]);
export type TestRedReason = z.infer<typeof TestRedReason>;

/**
 * The deterministic tester's verdict on one commit. Green only when the commit descends strictly
 * from the prepared commit, changes more than documentation, leaves the acceptance folder as
 * prepared, and both the template's tests and the acceptance tests (at least one) pass.
 */
export const TestVerdict = z.object({
  commit: z.string(),
  passed: z.boolean(),
  reason: TestRedReason.nullable(),
  /** Counts of the template's test command (which runs the acceptance tests too). */
  counts: TestRunCounts.nullable(),
  exitCode: z.number().int().nullable(),
  /** The last lines of install, test and acceptance output, for the developer and the person. */
  outputTail: z.string(),
  durationMs: z.number().int().min(0),
  /** What the commit was measured against: the Preparer's commit or the latest acceptance revision. */
  preparedCommit: z.string().nullable().default(null),
  /** Acceptance files the commit added, changed or deleted (`path (added|changed|deleted)`). */
  changedAcceptance: z.array(z.string()).default([]),
  /** Counts of the acceptance command, run alone from the prepared copy. */
  acceptanceCounts: TestRunCounts.nullable().default(null),
  /** True when the Tester installed and ran the commit's tests (it passed every commit check). */
  ran: z.boolean().default(false),
});
export type TestVerdict = z.infer<typeof TestVerdict>;

/** Every terminal `engineering` run carries this as its `result`. */
export const EngineeringRunResult = z.object({
  outcome: z.enum(["succeeded", "failed", "blocked"]),
  /** The green commit (on the default branch after a change was merged); null unless succeeded. */
  commit: z.string().nullable(),
  /** The last commit the Tester found on the remote and ran (green or red). */
  lastTestedCommit: z.string().nullable(),
  /** The commit the developer last reported: a claim, perhaps never pushed. */
  reportedCommit: z.string().nullable(),
  /** The acceptance baseline: the Preparer's commit, or the latest acceptance revision. */
  preparedCommit: z.string().nullable(),
  /** Acceptance questions the Architect answered in this run (revised or kept). */
  acceptanceRevisions: z.number().int().min(0),
  branch: z.string().nullable(),
  repository: z.string().nullable(),
  template: z.string().nullable(),
  /** Developer -> Tester rounds that ran. */
  iterations: z.number().int().min(0),
  /** The question for the Product Owner to ask, when the run is blocked on one. */
  question: z.string().nullable(),
  lastReport: WorkerReport.nullable(),
  lastTest: TestVerdict.nullable(),
  summary: z.string(),
});
export type EngineeringRunResult = z.infer<typeof EngineeringRunResult>;

/** `engineering.start`: a brief for a new project or a change request for an existing one. */
export const EngineeringStartInput = z
  .object({
    projectId: Id.describe("project UUID"),
    brief: z.string().trim().min(1).max(20_000).optional().describe("what to build (first run)"),
    changeRequest: z
      .string()
      .trim()
      .min(1)
      .max(20_000)
      .optional()
      .describe("what to change in the existing project"),
  })
  .refine((i) => (i.brief === undefined) !== (i.changeRequest === undefined), {
    path: ["brief"],
    message: "give exactly one of brief or changeRequest",
  });
export type EngineeringStartInput = z.infer<typeof EngineeringStartInput>;

/** `engineering.answer`: the person's answer to the question a blocked engineering run asked. */
export const EngineeringAnswerInput = z.object({
  runId: Id.describe("UUID of the blocked engineering run"),
  answer: z.string().trim().min(1).max(4_000).describe("the person's answer to the run's question"),
});
export type EngineeringAnswerInput = z.infer<typeof EngineeringAnswerInput>;

/**
 * The header line each engineering prompt starts with, naming the stage (the developer's attempt,
 * the acceptance revision): the engine's prompts write it; logs' readers and the scripted playbook
 * read it.
 */
const HEADER =
  /^\[engineering (architect|developer)(?: attempt (\d+)\/(\d+))?(?: revision (\d+)(?:\/(\d+))?)?\]/;

export interface PromptHeader {
  stage: "architect" | "developer";
  attempt: number;
  /** The acceptance revision this turn answers (architect) or follows (developer); null otherwise. */
  revision: number | null;
}

/** Reads the header of an engineering prompt; null for any other text (e.g. a report reminder). */
export function parsePromptHeader(prompt: string): PromptHeader | null {
  const m = HEADER.exec(prompt.trimStart());
  if (!m) return null;
  return {
    stage: m[1] as PromptHeader["stage"],
    attempt: m[2] ? Number(m[2]) : 1,
    revision: m[4] ? Number(m[4]) : null,
  };
}
