import type { StopReason } from "../../contracts/index.js";
import type { InvocationOutput } from "../backend.js";

/** A JSON object read from one line of an agent CLI's output. */
export type Json = Record<string, unknown>;

const ERROR_TAIL_CHARS = 2_000;

/** The end of a text, for error messages: where CLIs put the reason they failed. */
export const tail = (text: string): string => text.trim().slice(-ERROR_TAIL_CHARS);

/** Parses a line into a JSON object, or null for anything else (blank, garbage, arrays). */
export function parseJsonLine(line: string): Json | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(trimmed);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : null;
  } catch {
    return null;
  }
}

/** Why a turn failed, as a result's stop reason and error. */
export interface CliFailure {
  stopReason: StopReason;
  code: string;
  message: string;
}

/**
 * The failures every agent CLI shares, checked before its own events: out of time, killed,
 * silent, or not speaking JSON at all. `label` names the agent in messages ("codex", "droid").
 */
export function processFailure(
  output: InvocationOutput,
  label: string,
  jsonLines: number,
): CliFailure | null {
  if (output.timedOut)
    return { stopReason: "timeout", code: "timeout", message: `${label} ran out of time and was stopped` };
  if (output.signal === "SIGKILL" || output.exitCode === 137) {
    return { stopReason: "error", code: "killed", message: `${label} was killed (SIGKILL)` };
  }
  if (!output.stdout.trim()) {
    return {
      stopReason: "error",
      code: "empty_output",
      message: tail(output.stderr) || `${label} printed nothing`,
    };
  }
  if (jsonLines === 0) {
    return {
      stopReason: "error",
      code: "bad_output",
      message: `${label} printed no JSON: ${tail(output.stdout)}`,
    };
  }
  return null;
}
