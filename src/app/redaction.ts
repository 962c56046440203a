import type { Config } from "../config/index.js";
import { SecretRedactor } from "../observability/index.js";

/** The password of a connection URL (decoded), or null when it has none or is no URL. */
function passwordOf(url: string | null): string | null {
  if (!url) return null;
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : null;
  } catch {
    return null;
  }
}

/**
 * The process's one redactor, knowing from the start every secret its config holds: the model
 * providers' keys, the vault key, and the passwords in the database and Redis URLs. API tokens are
 * masked by their shape; the vault's values are taught by `SecretsService.refreshRedactor`.
 */
export function redactorFor(config: Config): SecretRedactor {
  const redactor = new SecretRedactor();
  for (const [name, value] of Object.entries(config.llm.credentials)) redactor.add(value, name);
  const named: [string, string | null][] = [
    ["ORCHESTRATOR_SECRET_KEY", config.deploy.secretKey],
    ["the DATABASE_URL password", passwordOf(config.databaseUrl)],
    ["the REDIS_URL password", passwordOf(config.redisUrl)],
    ["TELEGRAM_BOT_TOKEN", config.chat.telegram?.token ?? null],
    ["TELEGRAM_WEBHOOK_SECRET", config.chat.telegram?.webhookSecret ?? null],
    ["GITHUB_TOKEN", config.forge.kind === "github" ? config.forge.token : null],
  ];
  for (const [name, secret] of named) if (secret) redactor.add(secret, name);
  return redactor;
}
