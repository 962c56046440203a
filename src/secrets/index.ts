/**
 * Secrets: the vault (encryption at rest), the service that stores, reads and generates secret
 * values (feeding the log redactor), and Telegram bot token validation.
 */
export {
  MAX_SECRET_BYTES,
  SecretKey,
  SecretSetInput,
  SecretsService,
  SecretValue,
} from "./service.js";
export { isTelegramBotToken, TELEGRAM_BOT_TOKEN_KEY } from "./telegram.js";
export { Vault } from "./vault.js";
