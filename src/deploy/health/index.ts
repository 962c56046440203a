/** Health gates: decide whether a just-started release is alive (HTTP services and Telegram bots). */
export {
  HEALTH_DEADLINE_MS,
  HEALTH_INTERVAL_MS,
  HEALTH_REQUEST_TIMEOUT_MS,
  type HealthGateResult,
  type HttpHealthGateOptions,
  httpHealthGate,
} from "./http.js";
export { type TelegramGateResult, telegramHealthGate } from "./telegram.js";
