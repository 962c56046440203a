/**
 * The `llm` module: in-process model providers (Anthropic, OpenAI-compatible, scripted) behind one
 * `ModelProvider`, their prices, and the model gateway that agent sandboxes call with their worker
 * token instead of a model key.
 */
export {
  type ForwardedResponse,
  type GatewayCaller,
  GatewayRefusal,
  ModelGateway,
  type ModelGatewayDeps,
  type ProviderName,
  type Upstream,
} from "./gateway/gateway.js";
export { findSecrets, type SecretFinder, type SecretHit } from "./gateway/screen.js";
export { ANTHROPIC_OAUTH_BETA, upstreamsFrom } from "./gateway/upstreams.js";
export {
  anthropicMeter,
  type MeteredUsage,
  openAiChatMeter,
  openAiResponsesMeter,
  type UsageMeter,
} from "./gateway/usage.js";
export { type CostEstimate, estimateCostUsd, type ModelPrice, PRICE_TABLE, priceFor } from "./pricing.js";
export {
  ANTHROPIC_DEFAULT_MODEL,
  AnthropicProvider,
  type AnthropicProviderOptions,
} from "./providers/anthropic.js";
export { MeteredProvider, type MeteringDeps, type ModelCallOwner } from "./providers/metered.js";
export { OPENAI_DEFAULT_MODEL, OpenAiProvider, type OpenAiProviderOptions } from "./providers/openai.js";
export type { ModelCallOptions, ModelProvider } from "./providers/provider.js";
export {
  type ModelScript,
  SCRIPTED_MODEL,
  type ScriptedAnswer,
  ScriptedProvider,
} from "./providers/scripted.js";
export { type ModelSettings, selectModelProvider } from "./providers/select.js";
