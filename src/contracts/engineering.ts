import { z } from "zod";
import { WorkerReport } from "./agent.js";
import { Id } from "./ids.js";

/**
 * What an `engineering` run is asked to do: build a new project from a brief, or change an existing
 * one (user story US3). Stored as the run's `input`.
 */
export const EngineeringRunInput = z.object({
  mode: z.enum(["build", "change"]),
  /** The brief (build) or the change request (change), in the person's words. */
  text: z.string().trim().min(1).max(20_000),
});
export type EngineeringRunInput = z.infer<typeof EngineeringRunInput>;

/** The deterministic tester's verdict on one commit. */
export const TestVerdict = z.object({
  commit: z.string(),
  /** True only when install and test commands exited 0 and no test failed. */
  passed: z.boolean(),
  /** Why it is red when it is: `not_on_remote`, `install_failed`, `tests_failed`, `timeout`, ... */
  reason: z.string().nullable(),
  counts: z
    .object({
      passed: z.number().int().min(0),
      failed: z.number().int().min(0),
      skipped: z.number().int().min(0),
      runner: z.string(),
    })
    .nullable(),
  exitCode: z.number().int().nullable(),
  /** The last lines of install and test output, for the developer and the person. */
  outputTail: z.string(),
  durationMs: z.number().int().min(0),
});
export type TestVerdict = z.infer<typeof TestVerdict>;

/** Every terminal `engineering` run carries this as its `result`. */
export const EngineeringRunResult = z.object({
  outcome: z.enum(["succeeded", "failed", "blocked"]),
  /** The green commit (on the default branch after a change was merged). */
  commit: z.string().nullable(),
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
