import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, type Logger, SecretRedactor } from "../observability/index.js";

/** A logger whose JSON lines the test can read, for asserting what a scheduler logged. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: "debug",
    redactor: new SecretRedactor(),
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}

/** Polls `condition` until true; throws naming `what` after `deadlineMs` (a hang, not a measurement). */
export async function until(what: string, condition: () => boolean | Promise<boolean>, deadlineMs = 10_000) {
  const end = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
