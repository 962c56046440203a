/**
 * The `llm` module: model providers' prices and the model gateway that agent sandboxes call with
 * their worker token instead of a model key.
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
