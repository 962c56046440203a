import { accessSync, constants, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { turnFactory } from "../../../test/support/agent-backend-kit.js";
import { AgentResult } from "../../contracts/index.js";
import type { InvocationOutput, TurnRequest } from "../backend.js";
import { ROLE_BUILTIN_TOOLS } from "../role-tools.js";
import { ClaudeCodeBackend, claudeBinaryPath } from "./claude-code.js";

// Fixtures: stdout of the real CLI (2.1.197) run against test/fakes/anthropic, recorded by
// test/fakes/anthropic/record-claude-code-fixtures.ts; outputs.json has exit codes and stderr.
const FIXTURES = new URL("./fixtures/claude-code/", import.meta.url);
const OUTPUTS = JSON.parse(readFileSync(new URL("outputs.json", FIXTURES), "utf8")) as Record<
  string,
  Omit<InvocationOutput, "stdout">
>;

function fixture(name: string): InvocationOutput {
  const meta = OUTPUTS[name];
  if (!meta) throw new Error(`no recorded output for ${name}`);
  return { ...meta, stdout: readFileSync(new URL(`${name}.jsonl`, FIXTURES), "utf8") };
}

const backend = new ClaudeCodeBackend({ command: "/opt/claude/claude" });

const turn = turnFactory({ prompt: "--do the task", maxTurns: 8, budgetUsd: 5 });

/** Parses and checks the result against the contract schema (with the report the manager adds). */
function parse(output: InvocationOutput, t: TurnRequest = turn()) {
  const result = backend.parse(output, t);
  AgentResult.parse({ ...result, report: null });
  return result;
}

const raw = (stdout: string, over: Partial<InvocationOutput> = {}): InvocationOutput => ({
  stdout,
  stderr: "",
  exitCode: 0,
  signal: null,
  timedOut: false,
  durationMs: 1234,
  ...over,
});

describe("ClaudeCodeBackend.invocation", () => {
  it("builds print mode with stream-json, caps and a new session id; the prompt goes to stdin", () => {
    const inv = backend.invocation(
      turn({ newSessionId: "5b0c6a6e-4a54-4c39-8c55-9f2d2f0f7a11", systemPrompt: "-be brief", maxTurns: 12 }),
    );
    expect(inv.argv).toEqual([
      "/opt/claude/claude",
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--model",
      "claude-sonnet-4-5",
      "--max-turns",
      "12",
      "--max-budget-usd",
      "5",
      "--session-id",
      "5b0c6a6e-4a54-4c39-8c55-9f2d2f0f7a11",
      "--append-system-prompt=-be brief",
      "--exclude-dynamic-system-prompt-sections",
      "--strict-mcp-config",
      "--dangerously-skip-permissions",
    ]);
    expect(inv.stdin).toBe("--do the task");
    expect(inv.argv.join(" ")).not.toContain("do the task");
  });

  it("resumes instead of naming a new session, and passes the MCP config", () => {
    const inv = backend.invocation(
      turn({ resumeSessionId: "old-session", newSessionId: "ignored", mcpConfigPath: "/home/w/mcp.json" }),
    );
    expect(inv.argv).toContain("--resume");
    expect(inv.argv[inv.argv.indexOf("--resume") + 1]).toBe("old-session");
    expect(inv.argv).not.toContain("--session-id");
    expect(inv.argv).toContain("--mcp-config=/home/w/mcp.json");
    expect(inv.argv.some((a) => a.startsWith("--append-system-prompt"))).toBe(false);
  });

  it("sets the environment a sandboxed, bounded, quiet CLI needs", () => {
    const inv = new ClaudeCodeBackend({ command: "claude", maxRetries: 1 }).invocation(
      turn({ budgetUsd: 0.25 }),
    );
    expect(inv.env).toMatchObject({
      IS_SANDBOX: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      CLAUDE_CODE_MAX_RETRIES: "1",
      DISABLE_AUTOUPDATER: "1",
      MCP_CONNECTION_NONBLOCKING: "false",
    });
    expect(inv.argv[inv.argv.indexOf("--max-budget-usd") + 1]).toBe("0.25");
    // No credentials ever come from the backend: the caller's allow-list provides them.
    expect(Object.keys(inv.env).some((k) => /KEY|TOKEN/.test(k))).toBe(false);
  });

  it("offers each role only its built-in tools, as one `--tools=` argument", () => {
    const toolsOf = (role: keyof typeof ROLE_BUILTIN_TOOLS) =>
      backend
        .invocation(turn({ builtinTools: ROLE_BUILTIN_TOOLS[role] }))
        .argv.filter((a) => a.startsWith("--tools"));
    expect(toolsOf("developer")).toEqual(["--tools=Bash,Read,Write,Edit"]);
    expect(toolsOf("architect")).toEqual(["--tools=Bash,Read,Write,Edit"]);
    expect(toolsOf("tester")).toEqual(["--tools=Bash,Read"]);
    expect(toolsOf("devops")).toEqual(["--tools=Bash,Read"]);
    // No built-in tool at all: the orchestrator's MCP tools are all the Product Owner gets.
    expect(toolsOf("po")).toEqual(["--tools="]);
    // No list: the CLI's default set.
    expect(backend.invocation(turn()).argv.some((a) => a.startsWith("--tools"))).toBe(false);
  });

  it("keeps a lean turn's system prompt small and the same in every sandbox", () => {
    const lean = backend.invocation(turn({ builtinTools: ROLE_BUILTIN_TOOLS.developer }));
    expect(lean.argv).toContain("--exclude-dynamic-system-prompt-sections");
    expect(lean.env.CLAUDE_CODE_DISABLE_AUTO_MEMORY).toBe("1");
    // Nothing replaces the CLI's own prompt, and --bare (which drops the Write tool) is not used.
    expect(lean.argv.some((a) => a.startsWith("--system-prompt") || a === "--bare")).toBe(false);
  });

  it("runs the CLI as shipped when lean turns are off, whatever the role", () => {
    const shipped = new ClaudeCodeBackend({ command: "/opt/claude/claude", isLean: false }).invocation(
      turn({ builtinTools: ROLE_BUILTIN_TOOLS.developer }),
    );
    expect(shipped.argv.some((a) => a.startsWith("--tools"))).toBe(false);
    expect(shipped.argv).not.toContain("--exclude-dynamic-system-prompt-sections");
    expect(shipped.env.CLAUDE_CODE_DISABLE_AUTO_MEMORY).toBeUndefined();
  });

  it("resolves the installed native binary by default", () => {
    const path = claudeBinaryPath();
    expect(path).toMatch(/@anthropic-ai\/claude-code/);
    accessSync(path, constants.X_OK);
    expect(new ClaudeCodeBackend().invocation(turn()).argv[0]).toBe(path);
  });
});

describe("ClaudeCodeBackend.parse on recorded output", () => {
  it("reads a turn that called an MCP tool", () => {
    const r = parse(fixture("mcp-report"));
    expect(r.ok).toBe(true);
    expect(r.finalText).toBe("Reported.");
  });

  it.each([
    ["api-error-500", "api_error", "500"],
    ["overloaded-529", "overloaded", "529"],
    ["auth-401", "auth_failed", "Invalid API key"],
    ["unreachable", "api_unreachable", "Unable to connect"],
  ])("checks is_error before subtype: %s is a failure with the CLI's own message", (name, code, text) => {
    const output = fixture(name);
    expect(output.stdout).toContain('"subtype":"success","is_error":true');
    const r = parse(output);
    expect(r.ok).toBe(false);
    expect(r.stopReason).toBe("error");
    expect(r.error?.code).toBe(code);
    expect(r.error?.message).toContain(text);
    expect(r.costUsd).toBe(0);
  });

  it("does not take a 'success' whose tools could not write HOME for one", () => {
    const output = fixture("home-unwritable");
    expect(output.exitCode).toBe(0);
    const r = parse(output);
    expect(r).toMatchObject({ ok: false, stopReason: "error", error: { code: "home_unwritable" } });
    expect(r.error?.message).toContain(".claude");
  });

  it("treats empty output with exit 0 as a failure", () => {
    const output = fixture("empty-output");
    expect(output).toMatchObject({ stdout: "", exitCode: 0 });
    const r = parse(output);
    expect(r).toMatchObject({ ok: false, stopReason: "error", error: { code: "empty_output" } });
    expect(r.error?.message).toContain("HOME or /tmp");
  });

  it("rejects output that is not JSON, quoting its first line", () => {
    const r = parse(fixture("garbage"));
    expect(r).toMatchObject({ ok: false, error: { code: "bad_output" } });
    expect(r.error?.message).toContain("Hello in plain text, not JSON.");
  });
});

describe("ClaudeCodeBackend.parse on process outcomes", () => {
  const partial = fixture("success-tools").stdout.split("\n").slice(0, 3).join("\n");

  it("reports a timeout, keeping the session id and the tokens streamed so far", () => {
    const r = parse(raw(partial, { timedOut: true, exitCode: null, signal: "SIGKILL" }));
    expect(r).toMatchObject({ ok: false, stopReason: "timeout", error: { code: "timeout" } });
    expect(r.sessionId).toBe("5b0c6a6e-4a54-4c39-8c55-9f2d2f0f7a11");
    expect(r.usage.inputTokens).toBe(1200);
    expect(r.costSource).toBe("unknown");
  });

  it("reports a stream that ended without a result event", () => {
    const r = parse(raw(partial, { exitCode: 1, stderr: "Error: boom\nat x" }));
    expect(r.error).toEqual({
      code: "no_result",
      message: "claude ended without a result event: Error: boom",
    });
  });

  it("maps an unknown error subtype to its own code", () => {
    const line = JSON.stringify({
      type: "result",
      subtype: "error_during_execution",
      is_error: true,
      errors: ["tool crashed"],
      session_id: "s1",
      num_turns: 1,
    });
    expect(parse(raw(line, { exitCode: 1 })).error).toEqual({
      code: "error_during_execution",
      message: "tool crashed",
    });
  });

  it.each([
    "null",
    "[1,2]",
    '{"type":"result"}',
    '{"type":"result","subtype":"success","is_error":false,"modelUsage":5,"usage":"x","num_turns":-3}',
    '{"type":"assistant","message":{"content":"not-a-list","usage":null}}',
    '{"type":"user","message":{"content":[{"type":"tool_result","is_error":true,"content":[null,3]}]}}',
  ])("never throws on odd input: %s", (stdout) => {
    expect(() => parse(raw(stdout))).not.toThrow();
  });
});

describe("ClaudeCodeBackend.streamEvent", () => {
  it("turns stream-json lines into progress events and ignores noise", () => {
    const events = fixture("success-tools")
      .stdout.split("\n")
      .map((line) => backend.streamEvent(line))
      .filter((e) => e !== null);
    expect(events.map((e) => e.kind)).toEqual([
      "session",
      "tool_use",
      "tool_result",
      "tool_use",
      "tool_result",
      "text",
      "result",
    ]);
    expect(events[1]?.text).toMatch(/^Write: .*hello\.txt$/);
    expect(events[3]?.text).toBe("Bash: echo ran > ran.txt");
    expect(events[6]?.text).toBe("Wrote hello.txt and ran the command.");
    expect(backend.streamEvent("not json")).toBeNull();
    expect(backend.streamEvent("")).toBeNull();
  });

  it("shows API retries and errors", () => {
    const events = fixture("api-error-500")
      .stdout.split("\n")
      .map((line) => backend.streamEvent(line))
      .filter((e) => e !== null);
    expect(events.find((e) => e.kind === "retry")?.text).toContain("500");
    expect(events.at(-1)?.kind).toBe("error");
  });
});
