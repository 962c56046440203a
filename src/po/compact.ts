/**
 * A tool's answer as the model reads it: JSON without nulls, empty lists and long texts (test
 * output tails, prompts), cut at `maxChars`. The model needs the facts, not every byte.
 */
export function compactForModel(value: unknown, maxChars: number): string {
  const json = JSON.stringify(prune(value, 0)) ?? "null";
  return json.length <= maxChars ? json : `${json.slice(0, maxChars)}…(cut)`;
}

const MAX_STRING = 400;
const MAX_DEPTH = 6;

function prune(value: unknown, depth: number): unknown {
  if (typeof value === "string") return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "…";
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => prune(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[key] = prune(v, depth + 1);
  }
  return out;
}
