import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { AgentResult, StopReason } from "../../contracts/index.js";
import type { AgentBackend, Invocation, InvocationOutput, TurnRequest } from "../backend.js";
import { parseJsonLine, processFailure, tail } from "./cli-output.js";
import { ScriptedResultLine, ScriptedStepLine } from "./scripted-script.js";

/**
 * The `scripted` backend: a deterministic fake agent with no model, for demos and pipeline tests.
 * Each turn runs `scripted-agent` (a small Node program beside this module) on a JSON script of
 * steps (write, run, commit, report, progress, pause, fail, sleep); it really edits the workspace,
 * commits and calls the orchestrator's tools over HTTP, so everything around it is exercised for
 * real. It costs nothing: cost 0 with source "provider".
 */

/** The name recorded as the model of scripted turns: there is none. */
export const SCRIPTED_MODEL = "scripted";

/**
 * The command that starts the scripted agent with this process's Node. From compiled code it is
 * `node dist/workers/backends/scripted-agent.js`. From sources (tests run through vitest) it is the
 * same compiled file when the build is there (it starts in a third of the time, and the test
 * command builds before the suites, as the CLI's suites need), else `node --import <tsx loader>
 * src/.../scripted-agent.ts`, the loader given as an absolute URL so it resolves whatever the
 * working directory (the workspace) is.
 */
export function scriptedAgentCommand(nodePath: string = process.execPath): string[] {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith(".ts")) return [nodePath, join(dirname(here), "scripted-agent.js")];
  const built = join(dirname(here), "../../../dist/workers/backends/scripted-agent.js");
  if (existsSync(built)) return [nodePath, built];
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return [nodePath, "--import", tsx, join(dirname(here), "scripted-agent.ts")];
}

export interface ScriptedBackendOptions {
  /**
   * The script text for a turn. By default the prompt is the script (JSON, or a prompt holding an
   * `agent-script` fenced block). A resumed session with an unfinished script goes on with its
   * saved script whatever is sent.
   */
  scriptFor?: (turn: TurnRequest) => string;
  /** The agent command; defaults to `scriptedAgentCommand()`. */
  command?: string[];
}

/** The `AgentBackend` for the scripted agent. */
export class ScriptedBackend implements AgentBackend {
  readonly name = "scripted" as const;
  private readonly scriptFor: (turn: TurnRequest) => string;
  private readonly command: string[];

  constructor(options: ScriptedBackendOptions = {}) {
    this.scriptFor = options.scriptFor ?? ((turn) => turn.prompt);
    this.command = options.command ?? scriptedAgentCommand();
  }

  /** `<agent> --script - [--resume <id> | --session-id <id>]` with the script on stdin. */
  invocation(turn: TurnRequest): Invocation {
    const argv = [...this.command, "--script", "-"];
    if (turn.resumeSessionId) argv.push("--resume", turn.resumeSessionId);
    else if (turn.newSessionId) argv.push("--session-id", turn.newSessionId);
    return { argv, env: {}, stdin: this.scriptFor(turn) };
  }

  /** Each step as it finishes. */
  streamEvent(line: string): { kind: string; text: string } | null {
    const step = ScriptedStepLine.safeParse(parseJsonLine(line));
    if (!step.success) return null;
    return { kind: step.data.ok ? step.data.kind : "error", text: step.data.detail };
  }

  /** Reads the step and result lines into a normalized result; never throws. */
  parse(output: InvocationOutput, turn: TurnRequest): Omit<AgentResult, "report"> {
    let jsonLines = 0;
    let steps = 0;
    let lastStep: ScriptedStepLine | null = null;
    let result: ScriptedResultLine | null = null;
    let sessionId: string | null = null;
    for (const line of output.stdout.split("\n")) {
      const json = parseJsonLine(line);
      if (json === null) continue;
      jsonLines += 1;
      const step = ScriptedStepLine.safeParse(json);
      if (step.success) {
        steps += step.data.kind === "pause" ? 0 : 1;
        lastStep = step.data;
        continue;
      }
      const res = ScriptedResultLine.safeParse(json);
      if (res.success) result = res.data;
      const sid = (json as { session_id?: unknown }).session_id;
      if (typeof sid === "string") sessionId = sid;
    }

    const base = {
      finalText: result?.final_text ?? lastStep?.detail ?? "",
      sessionId: result?.session_id ?? sessionId ?? turn.resumeSessionId ?? turn.newSessionId,
      model: SCRIPTED_MODEL,
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0,
      costSource: "provider" as const,
      turns: result?.turns ?? steps,
      durationMs: Math.max(0, Math.round(output.durationMs)),
    };
    const fail = (stopReason: StopReason, code: string, message: string) => ({
      ...base,
      ok: false,
      stopReason,
      error: { code, message },
    });

    const broken = processFailure(output, "the scripted agent", jsonLines);
    if (broken) return fail(broken.stopReason, broken.code, broken.message);
    if (result && !result.ok) {
      return fail("error", result.error?.code ?? "agent_error", result.error?.message ?? result.final_text);
    }
    if (!result) {
      if (output.exitCode === 0) return fail("error", "no_result", "the agent ended without a result line");
      const why = output.signal ? `signal ${output.signal}` : `exit code ${output.exitCode}`;
      return fail("error", "crashed", `the agent crashed (${why}): ${tail(output.stderr)}`.trim());
    }
    if (output.exitCode !== 0) {
      return fail(
        "error",
        "exit_code",
        `the agent reported success but ended with exit code ${output.exitCode}`,
      );
    }
    return { ...base, ok: true, stopReason: "completed", error: null };
  }
}
