/**
 * Secrets: the vault (encryption at rest), the service that stores, reads and generates secret
 * values (feeding the redactor, also with what other processes stored), and Telegram bot token
 * validation, and finding secrets a person pasted into a message.
 */

export {
  type BotTokenCheck,
  BotTokens,
  type BotTokensDeps,
  botTokenRefusal,
  type PoolTake,
  type StoredBotToken,
} from "./bot-tokens.js";
export {
  type FoundSecret,
  findSecrets,
  type ScrubbedText,
  type SecretKind,
  scrubSecrets,
  secretReference,
} from "./detect.js";
export {
  nextKeyFileOf,
  type RotationOptions,
  type RotationReport,
  rotateKeyFile,
  rotateVaultKey,
  type TableRotation,
} from "./rotate.js";
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
export { type BotApiAnswer, type TelegramBotApi, telegramBotApi } from "./telegram-bot-api.js";
export { Vault } from "./vault.js";
export { checkVaultKey, VAULT_CHECK_TEXT } from "./vault-check.js";
export {
  describeKeySource,
  keyFileOf,
  openVault,
  SECRET_KEY_SETTING,
  type VaultKeySource,
  vaultKeySource,
} from "./vault-key.js";
