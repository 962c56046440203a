import { z } from "zod";
import { CostSource } from "./agent.js";
import { Id, Timestamp } from "./ids.js";
import { AgentBackend, AgentRole } from "./workers.js";

/** How one agent node (po, architect, developer, ...) runs. */
/** A saved version's number: stored as a PostgreSQL integer, so a larger one is refused as input. */
export const ConfigVersion = z.number().int().min(1).max(2_147_483_647);

export const AgentConfig = z.object({
  node: AgentRole,
  backend: AgentBackend,
  model: z.string().min(1).max(200),
  prompt: z.string().max(100_000),
  maxTurns: z.number().int().min(1).max(500),
  budgetUsd: z.number().positive().max(1000),
  timeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(24 * 3600 * 1000),
  /** Which saved version this is: 1 is the shipped default, every save adds one. */
  version: ConfigVersion,
  updatedAt: Timestamp,
});
export type AgentConfig = z.infer<typeof AgentConfig>;

/** Who saved a version: the saving token's name and kind (never the token). */
export const ConfigAuthor = z.string().min(1).max(200);

/**
 * One saved version of a node's config, kept forever: every save and every restore adds one, so
 * a run that recorded "developer v3" can always be read back.
 */
export const AgentConfigVersion = AgentConfig.omit({ updatedAt: true }).extend({
  createdBy: ConfigAuthor,
  createdAt: Timestamp,
});
export type AgentConfigVersion = z.infer<typeof AgentConfigVersion>;

/** A version as listed (without its prompt, which can be long): what the version list shows. */
export const AgentConfigVersionSummary = AgentConfigVersion.omit({ prompt: true });
export type AgentConfigVersionSummary = z.infer<typeof AgentConfigVersionSummary>;

/** Restoring a node's old version: its fields are saved again as a new version. */
export const AgentConfigRestore = z.object({ version: ConfigVersion });
export type AgentConfigRestore = z.infer<typeof AgentConfigRestore>;
/**
 * The backends the Product Owner runs on: in process through a model provider (`api`, or the
 * `scripted` one), or as the Claude Code CLI with the orchestrator's tools over MCP.
 */
export const PO_BACKENDS: readonly AgentBackend[] = ["api", "scripted", "claude-code"];
export const AgentConfigUpdate = AgentConfig.omit({ node: true, version: true, updatedAt: true }).partial();
export type AgentConfigUpdate = z.infer<typeof AgentConfigUpdate>;

/** Tokens and cost of one agent invocation. */
export const TokenUsage = z.object({
  id: Id,
  workerId: Id.nullable(),
  projectId: Id.nullable(),
  runId: Id.nullable(),
  backend: AgentBackend,
  model: z.string(),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  cacheReadTokens: z.number().int().min(0),
  cacheWriteTokens: z.number().int().min(0),
  costUsd: z.number().min(0),
  costSource: CostSource,
  createdAt: Timestamp,
});
export type TokenUsage = z.infer<typeof TokenUsage>;
export const TokenUsageCreate = TokenUsage.omit({ id: true, createdAt: true });
export type TokenUsageCreate = z.infer<typeof TokenUsageCreate>;
