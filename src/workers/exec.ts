import { posix } from "node:path";
import type { Runtime, Sandbox } from "./runtime.js";
import { EXEC_OUTPUT_LIMIT_BYTES, type ExecCall, type ExecOutcome } from "./spec.js";
import type { LineRing } from "./turn.js";

/**
 * Runs one validated `exec` call in a sandbox: the command's output lines go to the worker's log
 * ring as they arrive (stderr at the end, like a turn's), and each stream comes back cut to its
 * last `EXEC_OUTPUT_LIMIT_BYTES`. Runtime failures (sandbox gone, engine down) are thrown.
 */
export async function runCommand(opts: {
  runtime: Runtime;
  sandbox: Sandbox;
  call: ExecCall;
  env: Record<string, string>;
  log: LineRing;
}): Promise<ExecOutcome> {
  const { runtime, sandbox, call, log } = opts;
  log.push(`$ ${call.argv.join(" ")}`);
  const result = await runtime.exec(sandbox, {
    argv: call.argv,
    env: { ...opts.env, ...call.env },
    cwd: call.cwd === undefined ? undefined : posix.join(sandbox.workspace, call.cwd),
    stdin: call.stdin,
    timeoutMs: call.timeoutMs,
    onStdoutLine: (line) => log.push(line),
  });
  for (const line of result.stderr.split("\n").filter(Boolean).slice(-50)) log.push(`[stderr] ${line}`);
  return {
    ...result,
    stdout: tailBytes(result.stdout, EXEC_OUTPUT_LIMIT_BYTES),
    stderr: tailBytes(result.stderr, EXEC_OUTPUT_LIMIT_BYTES),
  };
}

/** The last `limit` bytes of a text, starting on a whole UTF-8 character. */
export function tailBytes(text: string, limit: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= limit) return text;
  let start = bytes.length - limit;
  // Skip continuation bytes (0b10xxxxxx) so the cut does not split a character.
  while (start < bytes.length && ((bytes[start] as number) & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString("utf8");
}
