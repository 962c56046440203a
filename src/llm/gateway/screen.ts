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
