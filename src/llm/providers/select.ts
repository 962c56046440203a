import { AppError, type ModelProviderKind } from "../../contracts/index.js";
import { AnthropicProvider } from "./anthropic.js";
import { OpenAiProvider } from "./openai.js";
import type { ModelProvider } from "./provider.js";
import { type ModelScript, ScriptedProvider } from "./scripted.js";

/** What picks an in-process model: the keys and base URLs from the settings. */
export interface ModelSettings {
  credentials: Record<string, string>;
  anthropicBaseUrl: string | null;
  openaiBaseUrl: string | null;
  /** A kind asked for by name (an AgentConfig); otherwise the first provider with a key. */
  kind?: ModelProviderKind;
  model?: string;
  deadlineMs?: number;
  /** The `fetch` the chosen provider's SDK calls with, by its kind (see `timedModelFetch`). */
  fetchFor?: (kind: ModelProviderKind) => typeof fetch;
}

/**
 * The provider for a node: the named kind, else Anthropic when `ANTHROPIC_API_KEY` is set, else
 * OpenAI-compatible when `OPENAI_API_KEY` is set, else the scripted model (`script`), which the
 * caller must label as such wherever a person sees its words.
 */
export function selectModelProvider(settings: ModelSettings, script: ModelScript): ModelProvider {
  const anthropicKey = settings.credentials.ANTHROPIC_API_KEY;
  const openaiKey = settings.credentials.OPENAI_API_KEY;
  const kind = settings.kind ?? (anthropicKey ? "anthropic" : openaiKey ? "openai" : "scripted");
  const common = {
    ...(settings.model ? { defaultModel: settings.model } : {}),
    ...(settings.deadlineMs ? { deadlineMs: settings.deadlineMs } : {}),
    ...(settings.fetchFor ? { fetch: settings.fetchFor(kind) } : {}),
  };
  if (kind === "anthropic" && anthropicKey) {
    return new AnthropicProvider({ apiKey: anthropicKey, baseUrl: settings.anthropicBaseUrl, ...common });
  }
  if (kind === "openai" && openaiKey) {
    return new OpenAiProvider({ apiKey: openaiKey, baseUrl: settings.openaiBaseUrl, ...common });
  }
  if (kind !== "scripted") {
    // Asked for by name: a missing key is said, never replaced by the scripted model.
    const name = kind === "anthropic" ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
    throw new AppError("invalid", "invalid_config", `the ${kind} model needs ${name}, which is not set`, {
      details: [{ path: name, message: "not set" }],
    });
  }
  return new ScriptedProvider(script);
}
