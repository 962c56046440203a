import type { Worker } from "../contracts/index.js";

export interface SessionLimits {
  maxContextTokens: number;
  maxAgeMs: number;
}

/** Whether the next turn continues the worker's agent session, and if not, why. */
export type SessionDecision = { resume: true; sessionId: string } | { resume: false; reason: string };

/**
 * A session is continued only when it exists, the caller allows it, its context (input + cache read
 * of the last turn) is below the limit and it was active recently. Anything else starts fresh,
 * because a stale or overfull context makes agents slow, costly and confused.
 */
export function decideSession(
  worker: Worker,
  allowResume: boolean,
  limits: SessionLimits,
  now: number,
): SessionDecision {
  if (!allowResume) return { resume: false, reason: "caller asked for a fresh session" };
  if (!worker.sessionId) return { resume: false, reason: "no session yet" };
  if (worker.contextTokens >= limits.maxContextTokens) {
    return {
      resume: false,
      reason: `context ${worker.contextTokens} tokens reached the limit ${limits.maxContextTokens}`,
    };
  }
  if (now - Date.parse(worker.lastActivityAt) > limits.maxAgeMs)
    return { resume: false, reason: "session idle too long" };
  return { resume: true, sessionId: worker.sessionId };
}

/** The first message of a fresh session: the project summary (when there is one), then the task. */
export function freshSessionPrompt(projectName: string, summary: string, message: string): string {
  if (!summary.trim()) return message;
  return `Project "${projectName}" so far:\n${summary.trim()}\n\n---\n\n${message}`;
}

/** Sent when a turn ended without a report, once, in the same session. */
export const REPORT_REMINDER =
  "You stopped without calling the `report` tool. Call it now: status complete, blocked (with your question) " +
  "or failed, a short summary, and the commit SHA if you pushed one. Do nothing else.";
