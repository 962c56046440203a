import { z } from "zod";
import { AgentRole, Id, WorkerBackend, WorkerRuntime } from "../contracts/index.js";
import type { ExecResult } from "./runtime.js";

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
  // npm reads `npm_config_*` case-insensitively: the sandbox's own `npm_config_cache` must win.
  "NPM_CONFIG_CACHE",
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
  /** `none`: a sandbox without an agent, for `exec` only. */
  backend: WorkerBackend,
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

/** A folder inside the workspace, relative to it and without `..`, so a command cannot leave it. */
const WorkspacePath = z
  .string()
  .min(1)
  .max(1000)
  .refine((p) => !p.includes("\0"), "no NUL characters")
  .refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), "relative to the workspace, no ..");

/** What `WorkerManager.exec` accepts besides the command. */
export const ExecOptions = z.object({
  /** Working directory relative to the workspace; the workspace itself when absent. */
  cwd: WorkspacePath.optional(),
  /** Added on top of the environment a turn of the worker gets; reserved names are refused. */
  env: z.record(EnvName, z.string().max(10_000)).default({}),
  timeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(24 * 3_600_000)
    .default(10 * 60_000),
  stdin: z
    .string()
    .max(1024 * 1024)
    .optional(),
});
export type ExecOptions = z.input<typeof ExecOptions>;

/** `exec`'s whole input, validated in one go so error paths name the field (`argv`, `cwd`, `env.X`). */
export const ExecCall = ExecOptions.extend({
  argv: z
    .array(z.string().max(100_000))
    .max(10_000)
    .refine((argv) => Boolean(argv[0]), "a command needs a program"),
});
export type ExecCall = z.output<typeof ExecCall>;

/** How much of each output stream `exec` returns: the end of it, so huge outputs stay bounded. */
export const EXEC_OUTPUT_LIMIT_BYTES = 64 * 1024;

/**
 * What `exec` returns: the runtime's `ExecResult` with stdout and stderr each cut to their last
 * `EXEC_OUTPUT_LIMIT_BYTES`.
 */
export type ExecOutcome = ExecResult;
