/**
 * The Settings page's view of the API (`/api/agent-configs/*`, `/api/settings`): plain types,
 * since the server validates and the page only reads what it is sent.
 */

/** The agent nodes, in the order the API lists them. */
export const AGENT_NODES = ["po", "architect", "developer", "tester", "devops"] as const;
export type AgentNode = (typeof AGENT_NODES)[number];

/** Where an agent runs; the Product Owner takes only `api`, `scripted` and `claude-code`. */
export const AGENT_BACKENDS = ["claude-code", "factory-droid", "codex", "api", "scripted"] as const;

export interface AgentConfig {
  node: AgentNode;
  backend: string;
  model: string;
  prompt: string;
  maxTurns: number;
  budgetUsd: number;
  timeoutMs: number;
  version: number;
  updatedAt: string;
}

/** The fields a save changes. */
export type AgentConfigFields = Pick<
  AgentConfig,
  "backend" | "model" | "prompt" | "maxTurns" | "budgetUsd" | "timeoutMs"
>;

/** A saved version: who saved it and when. */
export interface AgentConfigVersion extends AgentConfigFields {
  node: AgentNode;
  version: number;
  createdBy: string;
  createdAt: string;
}

export type AgentConfigVersionSummary = Omit<AgentConfigVersion, "prompt">;

/** The run-time settings, each in milliseconds. */
export const RUNTIME_SETTING_KEYS = [
  "workerPausedTtlMs",
  "workerHardTtlMs",
  "agentSessionMaxAgeMs",
  "webSessionTtlMs",
] as const;
export type RuntimeSettingKey = (typeof RUNTIME_SETTING_KEYS)[number];

export interface RuntimeSettingView {
  key: RuntimeSettingKey;
  value: number;
  defaultValue: number;
  isDefault: boolean;
  updatedBy: string | null;
  updatedAt: string | null;
}
