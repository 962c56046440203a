/** Finds known secret values in text and names them, never echoing a value. */
export interface SecretFinder {
  /** The labels (e.g. `project <id> TELEGRAM_BOT_TOKEN`, `ANTHROPIC_API_KEY`) of known secrets in `text`. */
  find(text: string): string[];
}

/** A known secret found in a request: which one, and where in the body (a JSON path). */
export interface SecretHit {
  secret: string;
  where: string;
}

/** The orchestrator's own bearer tokens (src/auth/tokens.ts): `orc_` and 32 bytes in base64url. */
const API_TOKEN = /orc_[A-Za-z0-9_-]{43}/g;
const TOKEN_MASK = "[REDACTED]";

/**
 * Masks orchestrator tokens in a request body. A sandbox holds its own token (the gateway key,
 * the tools' key), and an agent that prints its environment sends it back as a tool result; the
 * token is worthless to the model and must not reach the provider's logs. JSON stays valid: the
 * token's characters need no escaping and neither does the mask.
 */
export function maskApiTokens(body: string): string {
  return body.replace(API_TOKEN, TOKEN_MASK);
}

/**
 * Looks for known secrets in every string of a JSON body and says where the first of each sits
 * (`messages[3].content[0].content`). A body that is not JSON is searched as one text.
 */
export function findSecrets(body: string, finder: SecretFinder): SecretHit[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return finder.find(body).map((secret) => ({ secret, where: "body" }));
  }
  const hits = new Map<string, string>();
  const walk = (value: unknown, path: string): void => {
    if (typeof value === "string") {
      for (const secret of finder.find(value)) if (!hits.has(secret)) hits.set(secret, path || "body");
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) walk(item, `${path}[${i}]`);
    } else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value)) walk(item, path ? `${path}.${key}` : key);
    }
  };
  walk(doc, "");
  return [...hits].map(([secret, where]) => ({ secret, where }));
}
