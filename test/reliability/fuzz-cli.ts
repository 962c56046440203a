/**
 * The CLI's part of the fuzzed input: argv for every tool command (flags with hostile values,
 * unknown flags, missing values, junk words), run in-process through the CLI's `main` against the
 * real API, and a few runs of the built binary for what is read from stdin (secret values).
 */
import { main } from "../../src/cli/index.js";
import { ErrorBody } from "../../src/contracts/index.js";
import { cliFlags, commandWords, createToolRegistry } from "../../src/tools/index.js";
import { runCli } from "../support/cli.js";
import type { Fuzz } from "../support/fuzz.js";
import { eachLimited, Failures } from "./answers.js";

/** What is wrong with one CLI answer (its stdout), or null: one JSON document, no internal error. */
export function cliProblem(stdout: string): string | null {
  if (!stdout.trim()) return null; // --help and the like print text, or nothing
  let parsed: { ok?: unknown; error?: unknown };
  try {
    parsed = JSON.parse(stdout);
  } catch {
    // Commander's help is text by design.
    return /^Usage: /m.test(stdout) ? null : `not one JSON document: ${stdout.slice(0, 200)}`;
  }
  if (parsed.ok === true) return null;
  const error = ErrorBody.safeParse(parsed.error);
  if (!error.success) return `an error outside our shape: ${stdout.slice(0, 200)}`;
  if (error.data.code === "internal" || /^http_5/.test(error.data.code)) {
    return `${error.data.code}: ${error.data.message.slice(0, 200)}`;
  }
  return null;
}

/** Argv for one tool command (or junk), with flags drawn from the tool's input fields. */
function argvFor(f: Fuzz, known: readonly string[]): string[] {
  const tools = createToolRegistry()
    .list()
    .filter((t) => !t.secretField);
  if (f.next() < 0.05) return Array.from({ length: f.int(1, 4) }, () => f.string().slice(0, 100) || "x");
  const tool = f.pick(tools);
  const argv = commandWords(tool);
  for (const flag of cliFlags(tool)) {
    if (f.next() < 0.4) continue;
    if (flag.isBoolean) {
      argv.push(flag.flag);
      continue;
    }
    const roll = f.next();
    const value =
      roll < 0.2 && /id$/i.test(flag.field)
        ? f.pick(known)
        : roll < 0.3
          ? JSON.stringify(f.value(2))
          : f.string();
    argv.push(flag.flag, value.slice(0, 20_000));
  }
  if (f.next() < 0.1) argv.push(`--${f.string().slice(0, 30) || "x"}`);
  if (f.next() < 0.05) argv.push(f.string().slice(0, 50));
  if (f.next() < 0.03) argv.pop();
  return argv;
}

/**
 * Runs `count` fuzzed command lines through `main`, one at a time (stdout is the process's), with
 * `ORCHESTRATOR_API_URL` and a token pointing at the real API.
 */
export async function fuzzCli(
  f: Fuzz,
  count: number,
  target: { url: string; tokens: { admin: string; user: string; worker: string }; known: readonly string[] },
): Promise<Failures> {
  const failures = new Failures();
  const saved = { url: process.env.ORCHESTRATOR_API_URL, token: process.env.ORCHESTRATOR_TOKEN };
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.env.ORCHESTRATOR_API_URL = target.url;
  try {
    for (let i = 0; i < count; i++) {
      const argv = argvFor(f, target.known);
      process.env.ORCHESTRATOR_TOKEN = f.pick([
        target.tokens.admin,
        target.tokens.admin,
        target.tokens.user,
        target.tokens.worker,
      ]);
      let out = "";
      process.stdout.write = ((chunk: string | Uint8Array) => {
        out += String(chunk);
        return true;
      }) as typeof process.stdout.write;
      // Commander prints a command's help on stderr when a subcommand is missing.
      process.stderr.write = (() => true) as typeof process.stderr.write;
      try {
        await main(["node", "orchestrator", ...argv]);
      } catch (error) {
        failures.add(argv.join(" ").slice(0, 200), `main threw: ${String(error)}`);
      } finally {
        process.stdout.write = write;
        process.stderr.write = writeErr;
        process.exitCode = undefined;
      }
      const problem = cliProblem(out);
      if (problem) failures.add(argv.join(" ").slice(0, 200), problem);
    }
  } finally {
    process.env.ORCHESTRATOR_API_URL = saved.url;
    process.env.ORCHESTRATOR_TOKEN = saved.token;
    if (saved.url === undefined) delete process.env.ORCHESTRATOR_API_URL;
    if (saved.token === undefined) delete process.env.ORCHESTRATOR_TOKEN;
  }
  return failures;
}

/**
 * Runs the built binary `count` times, two at a time: the commands that read a secret from stdin
 * (with hostile stdin and flags), and junk command lines. Each must print one JSON answer and exit
 * 0 or 1, never crash with a stack trace.
 */
export async function fuzzCliBinary(
  f: Fuzz,
  count: number,
  target: { url: string; token: string },
): Promise<Failures> {
  const failures = new Failures();
  const secretTools = createToolRegistry()
    .list()
    .filter((t) => t.secretField);
  // An argument cannot hold a NUL (the operating system's limit, not ours): those are dropped.
  const arg = (text: string) => text.replaceAll("\0", "") || "x";
  const runs = Array.from({ length: count }, (_, i) => {
    const tool = secretTools[i % secretTools.length];
    const argv = tool && i % 4 !== 3 ? commandWords(tool) : [arg(f.string().slice(0, 60))];
    if (tool)
      for (const flag of cliFlags(tool))
        if (f.next() < 0.7) argv.push(flag.flag, arg(f.string().slice(0, 2_000)));
    const stdin = f.next() < 0.1 ? "" : f.string().slice(0, 100_000);
    return { argv, stdin };
  });
  const env = {
    PATH: process.env.PATH ?? "",
    ORCHESTRATOR_API_URL: target.url,
    ORCHESTRATOR_TOKEN: target.token,
  };
  await eachLimited(runs, 2, async ({ argv, stdin }) => {
    const res = await runCli(argv, env, stdin);
    const what = `${argv.join(" ").slice(0, 160)} < ${JSON.stringify(stdin.slice(0, 40))}`;
    if (res.code !== 0 && res.code !== 1) failures.add(what, `exit ${res.code}: ${res.stderr.slice(0, 300)}`);
    const problem =
      cliProblem(res.stdout) ??
      (res.stderr.includes("    at ") ? `a stack trace: ${res.stderr.slice(0, 300)}` : null);
    if (problem) failures.add(what, problem);
  });
  return failures;
}
