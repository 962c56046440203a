import { ErrorBody } from "../../src/contracts/index.js";

/**
 * Paths that speak another protocol than ours (git smart HTTP, the model providers' APIs, MCP's
 * JSON-RPC) or serve the browser files (a missing asset is a plain 404 by design): their refusals
 * are not ours to shape, so only "no 5xx" is checked there.
 */
const FOREIGN_PROTOCOL = [/^\/git\//, /^\/llm\//, /^\/api\/po\/mcp/, /^\/assets\//];

/**
 * What is wrong with an HTTP answer to a hostile input, or null: it must be a 2xx/3xx, or a 4xx with
 * our error shape (a code, a message, details of field and reason); never a 5xx.
 */
export function answerProblem(url: string, status: number, body: string): string | null {
  if (status >= 500) return `${status} ${body.slice(0, 300)}`;
  if (status < 400 || FOREIGN_PROTOCOL.some((re) => re.test(url))) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return `${status} with a body that is not JSON: ${body.slice(0, 200)}`;
  }
  const error = ErrorBody.safeParse((parsed as { error?: unknown } | null)?.error);
  if (!error.success) return `${status} without our error shape: ${body.slice(0, 200)}`;
  if (!error.data.message) return `${status} with an empty message`;
  return null;
}

/** Records failures by what was tried, keeping the first few examples to print. */
export class Failures {
  private readonly examples: string[] = [];
  count = 0;

  add(what: string, problem: string): void {
    this.count++;
    if (this.examples.length < 40) this.examples.push(`${what.slice(0, 600)}: ${problem.slice(0, 400)}`);
  }

  /** The examples, for an assertion's message. */
  toString(): string {
    return this.examples.join("\n");
  }
}

/** Runs `task` over `items` with at most `limit` at a time. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
