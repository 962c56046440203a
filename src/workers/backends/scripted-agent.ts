import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AppError } from "../../contracts/index.js";
import { executeStep } from "./scripted-agent-steps.js";
import {
  type AgentScript,
  findScript,
  type ScriptedResultLine,
  ScriptedSessionState,
  type ScriptedStepLine,
  SESSION_ID,
  stepKind,
} from "./scripted-script.js";

/**
 * The scripted agent: a deterministic stand-in for an agent CLI, with no model. It runs the steps
 * of an `AgentScript` in its working directory (the workspace), prints one JSON line per step and
 * a final result line, and keeps `$HOME/.scripted-sessions/<id>.json` so that `--resume <id>`
 * continues after the last `pause`. Usage:
 *
 *   node scripted-agent.js --script <-|path|inline JSON> [--session-id <id> | --resume <id>]
 *
 * With `--script -` the script is read from stdin. Exit codes: 0 success (also a pause), 1 a
 * step failed or a `fail` step simulated a crash (no result line then), 2 a bad script or usage.
 */

const STATE_DIR = ".scripted-sessions";

interface Options {
  script: string;
  sessionId: string | null;
  resume: string | null;
}

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function readOptions(argv: string[]): Options {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { script: { type: "string" }, "session-id": { type: "string" }, resume: { type: "string" } },
      strict: true,
    });
    if (!values.script) throw new Error("--script is required");
    if (values["session-id"] && values.resume) {
      throw new Error("--session-id and --resume exclude each other");
    }
    for (const id of [values["session-id"], values.resume]) {
      if (id !== undefined && !SESSION_ID.test(id)) throw new Error(`not a usable session id: ${id}`);
    }
    return { script: values.script, sessionId: values["session-id"] ?? null, resume: values.resume ?? null };
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new AppError("invalid", "bad_usage", message, { cause });
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** `-` is stdin, text starting with `{` or `[` is inline JSON, anything else a file path. */
async function scriptText(source: string): Promise<string> {
  if (source === "-") return readStdin();
  if (/^\s*[[{]/.test(source)) return source;
  return readFile(source, "utf8");
}

function stateFile(sessionId: string): string {
  const home = process.env.HOME;
  if (!home) throw new AppError("invalid", "bad_usage", "HOME is not set: no place for the session state");
  return join(home, STATE_DIR, `${sessionId}.json`);
}

async function loadState(sessionId: string): Promise<ScriptedSessionState | null> {
  let text: string;
  try {
    text = await readFile(stateFile(sessionId), "utf8");
  } catch {
    return null;
  }
  try {
    const parsed = ScriptedSessionState.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null; // a corrupt state file counts as no state
  }
}

/** Writes the state atomically (temp file + rename): a crash never leaves half a file. */
async function saveState(state: ScriptedSessionState): Promise<void> {
  const file = stateFile(state.sessionId);
  await mkdir(join(file, ".."), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ ...state, updatedAt: new Date().toISOString() }));
  await rename(tmp, file);
}

/**
 * Picks what this turn runs. A resumed session whose script is unfinished goes on with it;
 * otherwise (new session, or resumed after the end) the script given now starts from its first step.
 */
async function planTurn(opts: Options): Promise<ScriptedSessionState> {
  const given = findScript(await scriptText(opts.script));
  const sessionId = opts.resume ?? opts.sessionId ?? randomUUID();
  const saved = opts.resume ? await loadState(opts.resume) : null;
  if (saved && saved.nextStep < saved.script.steps.length) return saved;
  const script: AgentScript | null = given ?? (saved ? saved.script : null);
  if (!script) {
    throw new AppError(
      "invalid",
      "bad_script",
      opts.resume ? "no script, and no saved session to resume" : "no script",
    );
  }
  const nextStep = given ? 0 : (saved?.nextStep ?? 0);
  return { version: 1, sessionId, script, nextStep, turns: saved?.turns ?? 0, updatedAt: "" };
}

function result(
  state: ScriptedSessionState,
  turns: number,
  rest: Partial<ScriptedResultLine>,
): ScriptedResultLine {
  return {
    type: "result",
    ok: true,
    session_id: state.sessionId,
    turns,
    paused: false,
    done: state.nextStep >= state.script.steps.length,
    next_step: state.nextStep,
    final_text: "",
    error: null,
    ...rest,
  };
}

/** Runs one turn of the session and returns the exit code. */
async function runTurn(state: ScriptedSessionState, workspace: string): Promise<number> {
  const steps = state.script.steps;
  print({
    type: "system",
    agent: "scripted",
    model: null,
    note: "deterministic script runner, no model",
    session_id: state.sessionId,
    next_step: state.nextStep,
    total_steps: steps.length,
  });
  let turns = 0;
  let lastSummary: string | null = null;
  while (state.nextStep < steps.length) {
    const index = state.nextStep;
    const step = steps[index];
    if (!step) break;
    const kind = stepKind(step);
    if ("pause" in step) {
      state.nextStep = index + 1;
      await saveState(state);
      const line: ScriptedStepLine = { type: "step", index, kind, ok: true, detail: "paused" };
      print(line);
      const text = step.pause.message ?? lastSummary ?? `paused after step ${index}`;
      print(result(state, turns, { paused: true, final_text: text }));
      return 0;
    }
    if ("fail" in step) {
      // A crash: the session moves past this step (a resume goes on), but no result is printed.
      state.nextStep = index + 1;
      await saveState(state);
      print({ type: "step", index, kind, ok: false, detail: step.fail.message } satisfies ScriptedStepLine);
      process.stderr.write(`scripted agent crash (simulated): ${step.fail.message}\n`);
      return 1;
    }
    const outcome = await executeStep({ workspace, env: process.env }, step);
    turns += 1;
    state.turns += 1;
    print({ type: "step", index, kind, ok: outcome.ok, detail: outcome.detail } satisfies ScriptedStepLine);
    if (!outcome.ok) {
      // The failed step stays next: a resumed session tries it again.
      await saveState(state);
      const error = { code: "step_failed", message: `step ${index} (${kind}) failed: ${outcome.detail}` };
      print(result(state, turns, { ok: false, final_text: error.message, error }));
      return 1;
    }
    if ("report" in step) lastSummary = step.report.summary;
    state.nextStep = index + 1;
    await saveState(state);
  }
  await saveState(state);
  print(
    result(state, turns, { final_text: lastSummary ?? `script finished: ${turns} step(s) run this turn` }),
  );
  return 0;
}

async function main(): Promise<number> {
  let state: ScriptedSessionState;
  try {
    state = await planTurn(readOptions(process.argv.slice(2)));
  } catch (error) {
    const code = error instanceof AppError ? error.code : "bad_script";
    const message = error instanceof Error ? error.message : String(error);
    const details = error instanceof AppError ? error.details.map((d) => `${d.path}: ${d.message}`) : [];
    const full = [message, ...details].join("; ");
    print({
      type: "result",
      ok: false,
      session_id: null,
      turns: 0,
      paused: false,
      done: false,
      next_step: 0,
      final_text: full,
      error: { code, message: full },
    } satisfies ScriptedResultLine);
    return 2;
  }
  return runTurn(state, process.cwd());
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `scripted agent bug: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
