/**
 * Secrets: the vault (encryption at rest), the service that stores, reads and generates secret
 * values (feeding the redactor, also with what other processes stored), and Telegram bot token
 * validation, and finding secrets a person pasted into a message.
 */
export {
  type FoundSecret,
  findSecrets,
  type ScrubbedText,
  type SecretKind,
  scrubSecrets,
  secretReference,
} from "./detect.js";
export {
  MAX_SECRET_BYTES,
  type RedactionRefresh,
  type RedactorRefreshOutcome,
  SecretKey,
  SecretSetInput,
  SecretsService,
  SecretValue,
} from "./service.js";
export { isTelegramBotToken, TELEGRAM_BOT_TOKEN_KEY } from "./telegram.js";
export { Vault } from "./vault.js";
