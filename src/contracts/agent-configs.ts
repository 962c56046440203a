import { z } from "zod";
import { CostSource } from "./agent.js";
import { Id, Timestamp } from "./ids.js";
import { AgentBackend, AgentRole } from "./workers.js";

/** How one agent node (po, architect, developer, ...) runs. */
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
  updatedAt: Timestamp,
});
export type AgentConfig = z.infer<typeof AgentConfig>;
/**
 * The backends the Product Owner runs on: in process through a model provider (`api`, or the
 * `scripted` one), or as the Claude Code CLI with the orchestrator's tools over MCP.
 */
export const PO_BACKENDS: readonly AgentBackend[] = ["api", "scripted", "claude-code"];
export const AgentConfigUpdate = AgentConfig.omit({ node: true, updatedAt: true }).partial();
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
