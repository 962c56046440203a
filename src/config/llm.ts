import { z } from "zod";
import { Duration, type EnvVarSpec } from "./values.js";

/** Settings of the model gateway: where the providers are reached and how long a call may take. */
export const LLM_VARS = {
  ANTHROPIC_BASE_URL: {
    schema: z.url({ protocol: /^https?$/ }),
    doc: "Anthropic API the model gateway forwards to (default: Anthropic's own)",
  },
  OPENAI_BASE_URL: {
    schema: z.url({ protocol: /^https?$/ }),
    doc: "OpenAI-compatible API the model gateway forwards to, with or without /v1 (default: OpenAI's own)",
  },
  LLM_GATEWAY_TIMEOUT: {
    schema: Duration,
    doc: "Longest one model call through the gateway may take, streaming included",
    default: "10m",
  },
} as const satisfies Record<string, EnvVarSpec>;

/**
 * Credentials of the model providers. The model gateway holds the model keys; only
 * `FACTORY_API_KEY` (Factory's own account key, which the droid CLI needs to start) enters a
 * droid worker's sandbox.
 */
export const AGENT_CREDENTIAL_VARS = [
  "ANTHROPIC_API_KEY",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "OPENAI_API_KEY",
  "FACTORY_API_KEY",
] as const;

/** The `llm` section of the typed settings: the model gateway (keys never handed to sandboxes). */
export const LlmSettings = z.object({
  anthropicBaseUrl: z.string().nullable(),
  openaiBaseUrl: z.string().nullable(),
  gatewayTimeoutMs: z.number().int(),
  /** Model-provider credentials; secrets, never logged, never in a sandbox. */
  credentials: z.record(z.string(), z.string()),
});
