import { z } from "zod";
import { AgentBackend, AgentRole, Id, WorkerRuntime } from "../contracts/index.js";

/** Names the orchestrator sets itself in every sandbox; a caller may not override them. */
export const RESERVED_ENV = [
  "PATH",
  "HOME",
  "TMPDIR",
  "LANG",
  "ORCHESTRATOR_API_URL",
  "ORCHESTRATOR_TOKEN",
  "ORCHESTRATOR_WORKER_ID",
  "ORCHESTRATOR_PROJECT_ID",
] as const;

const EnvName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, "upper-case letters, digits and _")
  .refine((n) => !(RESERVED_ENV as readonly string[]).includes(n), "set by the orchestrator itself");

/** What `WorkerManager.create` accepts. */
export const CreateWorkerSpec = z.object({
  role: AgentRole,
  projectId: Id,
  runId: Id.nullable().default(null),
  backend: AgentBackend,
  runtime: WorkerRuntime.optional().describe("defaults to WORKER_RUNTIME"),
  /** Extra abilities the worker needs (e.g. `git`); recorded as labels for now. */
  capabilities: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/)).default([]),
  env: z.record(EnvName, z.string().max(10_000)).default({}),
  limits: z
    .object({
      cpus: z.number().positive().max(64).default(1),
      memoryMb: z.number().int().min(64).max(65_536).default(2048),
      pids: z.number().int().min(16).max(32_768).default(512),
    })
    .default({ cpus: 1, memoryMb: 2048, pids: 512 }),
});
export type CreateWorkerSpec = z.input<typeof CreateWorkerSpec>;

/** What `WorkerManager.send` accepts besides the message. */
export const SendOptions = z.object({
  /** Continue the session when the session rules allow it (default); false forces a fresh one. */
  resume: z.boolean().default(true),
  timeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(24 * 3_600_000)
    .optional(),
  maxTurns: z.number().int().min(1).max(500).optional(),
  budgetUsd: z.number().positive().max(1000).optional(),
});
export type SendOptions = z.input<typeof SendOptions>;
