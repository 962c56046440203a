import { z } from "zod";
import { Id, Timestamp } from "./ids.js";
import { RunStatus } from "./status.js";

/** A W3C trace id: 32 lowercase hex digits, not all zero. */
export const TraceId = z
  .string()
  .regex(/^[0-9a-f]{32}$/)
  .refine((id) => !/^0+$/.test(id), "the invalid (all-zero) trace id");

/** The pipelines a run can execute: build the code, ship it, or set up a server. */
export const RunKind = z.enum(["engineering", "deploy", "provision"]);
export type RunKind = z.infer<typeof RunKind>;

/** The bus stream that carries "run this run" triggers for a kind: engines consume it. */
export function runStream(kind: RunKind): string {
  return `engine.${kind}`;
}

/** One execution of a pipeline for a project. A terminal run always carries a result. */
export const Run = z.object({
  id: Id,
  projectId: Id,
  kind: RunKind,
  status: RunStatus,
  stage: z.string().nullable(),
  attempt: z.number().int().min(0),
  iteration: z.number().int().min(0),
  input: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  tokensIn: z.number().int().min(0),
  tokensOut: z.number().int().min(0),
  costUsd: z.number().min(0),
  /** What the run may spend on models (USD); reaching it pauses the run `awaiting_approval`. */
  budgetUsd: z.number().positive().nullable(),
  /** The OpenTelemetry trace the run was started in (32 hex digits); null when nothing was traced. */
  traceId: TraceId.nullable(),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
});
export type Run = z.infer<typeof Run>;
export const RunCreate = z.object({
  projectId: Id,
  kind: RunKind,
  input: z.record(z.string(), z.unknown()).default({}),
  traceId: TraceId.nullable().default(null),
});
export type RunCreate = z.input<typeof RunCreate>;
