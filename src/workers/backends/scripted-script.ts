import { z } from "zod";
import { AppError, detailsFromZod } from "../../contracts/index.js";

/**
 * The language of the `scripted` backend: a deterministic list of steps a fake agent performs in
 * its workspace, with no model involved. Demos and pipeline tests use it to drive the real
 * machinery (sandbox, git, report and progress tools) with a known outcome. The agent program and
 * the backend that reads its output both import these schemas, so the two cannot drift apart.
 */

const SHA = /^[0-9a-f]{7,64}$/;
const MAX_SLEEP_MS = 10 * 60_000;
const MAX_RUN_TIMEOUT_MS = 60 * 60_000;

/** Writes a file under the workspace (parents created). The path must stay inside the workspace. */
export const WriteStep = z.strictObject({
  write: z.strictObject({ path: z.string().min(1).max(1_000), content: z.string() }),
});
/** Runs a command (argument array, no shell) in the workspace; a non-zero exit fails the step unless allowed. */
export const RunStep = z.strictObject({
  run: z.strictObject({
    argv: z.array(z.string()).min(1),
    timeoutMs: z.number().int().positive().max(MAX_RUN_TIMEOUT_MS).optional(),
    allowFailure: z.boolean().optional(),
  }),
});
/** `git add -A` and commit; then `git push` when the workspace has a remote. Nothing staged is not an error. */
export const CommitStep = z.strictObject({ commit: z.strictObject({ message: z.string().trim().min(1) }) });
/** Calls the orchestrator's `report` tool. `commit: "HEAD"` is resolved to the current commit's SHA. */
export const ReportStep = z.strictObject({
  report: z
    .strictObject({
      status: z.enum(["complete", "blocked", "failed"]),
      summary: z.string().trim().min(1).max(10_000),
      question: z.string().trim().min(1).max(2_000).optional(),
      commit: z.union([z.literal("HEAD"), z.string().regex(SHA, "a git commit SHA or HEAD")]).optional(),
      acceptanceTest: z.string().trim().min(1).max(500).optional(),
    })
    .refine((r) => r.status !== "blocked" || r.question !== undefined, {
      path: ["question"],
      message: "a blocked report must ask its question",
    }),
});
/** Calls the orchestrator's `progress` tool. */
export const ProgressStep = z.strictObject({
  progress: z.strictObject({
    step: z.string().trim().min(1).max(200),
    percent: z.number().int().min(0).max(100).optional(),
    note: z.string().max(2_000).optional(),
  }),
});
/** Simulates a crash: the agent exits non-zero at once, printing no result. */
export const FailStep = z.strictObject({ fail: z.strictObject({ message: z.string().min(1) }) });
export const SleepStep = z.strictObject({
  sleep: z.strictObject({ ms: z.number().int().min(0).max(MAX_SLEEP_MS) }),
});
/** Ends this turn here; a resumed session goes on with the next step. */
export const PauseStep = z.strictObject({
  pause: z.strictObject({ message: z.string().max(2_000).optional() }),
});

export const ScriptStep = z.union([
  WriteStep,
  RunStep,
  CommitStep,
  ReportStep,
  ProgressStep,
  FailStep,
  SleepStep,
  PauseStep,
]);
export type ScriptStep = z.infer<typeof ScriptStep>;

/** The kinds of step, in the order of the union (each step object has exactly one of these keys). */
export const STEP_KINDS = ["write", "run", "commit", "report", "progress", "fail", "sleep", "pause"] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** The kind of a parsed step: its one key. */
export function stepKind(step: ScriptStep): StepKind {
  const key = Object.keys(step)[0];
  return (STEP_KINDS as readonly string[]).includes(key ?? "") ? (key as StepKind) : "fail";
}

/** A whole script: `{ "steps": [...] }`, or just the array of steps. */
export const AgentScript = z.union([
  z.strictObject({ steps: z.array(ScriptStep).min(1).max(1_000) }),
  z
    .array(ScriptStep)
    .min(1)
    .max(1_000)
    .transform((steps) => ({ steps })),
]);
export type AgentScript = z.infer<typeof AgentScript>;

const FENCED = /```agent-script[^\n]*\n([\s\S]*?)```/;

/**
 * Finds a script in a text: the whole text as JSON, or else a fenced block tagged `agent-script`
 * (so a generated prompt can carry one). Returns null when the text holds no script at all; throws
 * an `invalid` AppError listing the problems when it holds a broken one.
 */
export function findScript(text: string): AgentScript | null {
  const trimmed = text.trim();
  let source: string | null = null;
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) source = trimmed;
  else source = FENCED.exec(text)?.[1] ?? null;
  if (source === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch (cause) {
    throw new AppError("invalid", "bad_script", "the agent script is not valid JSON", { cause });
  }
  const parsed = AgentScript.safeParse(json);
  if (!parsed.success) {
    throw new AppError("invalid", "bad_script", "the agent script does not match the schema", {
      details: detailsFromZod(parsed.error),
    });
  }
  return parsed.data;
}

/** What the agent remembers of a session between turns: the script and where it stopped. */
export const ScriptedSessionState = z.object({
  version: z.literal(1),
  sessionId: z.string(),
  script: z.object({ steps: z.array(ScriptStep) }),
  nextStep: z.number().int().min(0),
  turns: z.number().int().min(0),
  updatedAt: z.string(),
});
export type ScriptedSessionState = z.infer<typeof ScriptedSessionState>;

/** Session ids become file names: keep them to a safe alphabet. */
export const SESSION_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** One line the agent prints per step it ran. */
export const ScriptedStepLine = z.object({
  type: z.literal("step"),
  index: z.number().int().min(0),
  kind: z.enum(STEP_KINDS),
  ok: z.boolean(),
  detail: z.string(),
});
export type ScriptedStepLine = z.infer<typeof ScriptedStepLine>;

/** The last line the agent prints, unless it crashed (a `fail` step or a bug). */
export const ScriptedResultLine = z.object({
  type: z.literal("result"),
  ok: z.boolean(),
  session_id: z.string().nullable(),
  turns: z.number().int().min(0),
  paused: z.boolean(),
  done: z.boolean(),
  next_step: z.number().int().min(0),
  final_text: z.string(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export type ScriptedResultLine = z.infer<typeof ScriptedResultLine>;
