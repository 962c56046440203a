import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { fixtureReader } from "../../../test/support/agent-backend-kit.js";
import type { InvocationOutput } from "../backend.js";
import { agentBackendConformance, invocationOutput } from "./backend.conformance.js";
import { ClaudeCodeBackend } from "./claude-code.js";
import { CodexBackend } from "./codex.js";
import { FactoryDroidBackend } from "./factory-droid.js";
import { SCRIPTED_MODEL, ScriptedBackend } from "./scripted.js";

// Every backend over its recorded output: claude-code from the real CLI against the fake Anthropic
// API (outputs.json holds exit codes and stderr), codex and factory-droid from their documented
// streams, scripted from the scripted agent itself.

const CLAUDE_OUTPUTS = JSON.parse(
  readFileSync(new URL("./fixtures/claude-code/outputs.json", import.meta.url), "utf8"),
) as Record<string, Omit<InvocationOutput, "stdout">>;
const claudeFixture = fixtureReader("claude-code");

function claude(name: string): InvocationOutput {
  const meta = CLAUDE_OUTPUTS[name];
  if (!meta) throw new Error(`no recorded output for ${name}`);
  return { ...meta, stdout: claudeFixture(name) };
}

agentBackendConformance("claude-code", {
  make: () => new ClaudeCodeBackend({ command: "/opt/claude/claude" }),
  envAllowList: [
    "CLAUDE_CODE_DISABLE_AUTO_MEMORY",
    "IS_SANDBOX",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
    "CLAUDE_CODE_MAX_RETRIES",
    "DISABLE_AUTOUPDATER",
    "DISABLE_TELEMETRY",
    "DISABLE_ERROR_REPORTING",
    "DISABLE_NON_ESSENTIAL_MODEL_CALLS",
    "CLAUDE_CODE_DISABLE_TERMINAL_TITLE",
    "MCP_CONNECTION_NONBLOCKING",
  ],
  success: {
    output: claude("success-tools"),
    expected: {
      finalText: "Wrote hello.txt and ran the command.",
      sessionId: "5b0c6a6e-4a54-4c39-8c55-9f2d2f0f7a11",
      model: "claude-sonnet-4-5",
      // The sums of what the fake reported for the three replies.
      usage: { inputTokens: 3900, outputTokens: 90, cacheReadTokens: 2000, cacheWriteTokens: 510 },
      costUsd: expect.closeTo(0.0155625, 7),
      costSource: "provider",
      turns: 3,
      durationMs: CLAUDE_OUTPUTS["success-tools"]?.durationMs,
    },
  },
  // The CLI resumes by id (`--resume`); its stream names the session it continued.
  resume: {
    output: claude("mcp-report"),
    turn: { resumeSessionId: sessionOf(claudeFixture("mcp-report")) },
    expected: { finalText: "Reported.", costSource: "provider" },
  },
  authFailure: {
    output: claude("auth-401"),
    expected: {
      error: { code: "auth_failed", message: expect.stringContaining("Invalid API key") },
      costUsd: 0,
    },
  },
  stops: [
    {
      stopReason: "max_turns",
      output: claude("max-turns"),
      turn: { maxTurns: 2 },
      expected: {
        error: { message: expect.stringContaining("maximum number of turns") },
        sessionId: expect.any(String),
      },
    },
    {
      stopReason: "budget",
      output: claude("budget"),
      turn: { budgetUsd: 0.5 },
      // Tokens from modelUsage; the provider's cost, past the budget.
      expected: {
        usage: { inputTokens: 1_000_000 },
        costUsd: expect.toSatisfy((c: number) => c > 0.5),
        costSource: "provider",
      },
    },
  ],
});

const codexFixture = fixtureReader("codex");
const CODEX_THREAD = "0199a213-81c0-7800-8aa1-bbab2a035a53";

agentBackendConformance("codex", {
  make: () => new CodexBackend(),
  turn: { model: "gpt-5-codex" },
  envAllowList: [],
  success: {
    output: invocationOutput(codexFixture("success"), { durationMs: 4321 }),
    expected: {
      finalText: "Added GET /health returning 200; all 4 tests pass. Committed as 3f2c1ab.",
      sessionId: CODEX_THREAD,
      model: "gpt-5-codex",
      usage: { inputTokens: 315, cacheReadTokens: 24_448, outputTokens: 122, cacheWriteTokens: 0 },
      // Codex reports no money: priced from the table.
      costUsd: expect.closeTo((315 * 1.25 + 24_448 * 0.125 + 122 * 10) / 1e6, 6),
      costSource: "estimated",
      turns: 1,
      durationMs: 4321,
    },
  },
  resume: {
    output: invocationOutput(codexFixture("resume")),
    turn: { resumeSessionId: CODEX_THREAD },
    expected: {
      finalText: "The last commit is 3f2c1ab; nothing else to do.",
      usage: { inputTokens: 812, cacheReadTokens: 30_208 },
    },
  },
  authFailure: {
    output: invocationOutput(codexFixture("turn-failed"), { exitCode: 1 }),
    expected: {
      error: { code: "turn_failed", message: "stream error: unexpected status 401 Unauthorized" },
      sessionId: "0199a214-0a11-7c32-9f0e-5d1e2a7b9c44",
      turns: 1,
    },
  },
});

const droidFixture = fixtureReader("factory-droid");
const DROID_SESSION = "8af22e0a-d222-42c6-8c7e-7a059e391b0b";

agentBackendConformance("factory-droid", {
  make: () => new FactoryDroidBackend(),
  turn: { model: "claude-sonnet-4-5-20250929" },
  envAllowList: [],
  success: {
    output: invocationOutput(droidFixture("success"), { durationMs: 12_000 }),
    expected: {
      finalText: "Added GET /health; all 4 tests pass.",
      sessionId: DROID_SESSION,
      model: "claude-sonnet-4-5-20250929",
      // Droid's stream has no usage: nothing counted, cost unknown.
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0,
      costSource: "unknown",
      turns: 3,
      durationMs: 10_184,
    },
  },
  resume: {
    output: invocationOutput(droidFixture("resume")),
    turn: { resumeSessionId: DROID_SESSION },
    expected: { finalText: "Reported the work as complete.", turns: 1 },
  },
  authFailure: {
    output: invocationOutput(droidFixture("json-error"), { exitCode: 1 }),
    // is_error decides, whatever the subtype says.
    expected: { error: { code: "agent_error", message: "Authentication failed: invalid FACTORY_API_KEY" } },
  },
});

const scriptedFixture = fixtureReader("scripted");
const SCRIPTED_SESSION = "5b0c6a6e-0000-4000-8000-00000000a001";

agentBackendConformance("scripted", {
  make: () => new ScriptedBackend({ command: ["/usr/bin/node", "/opt/scripted-agent.js"] }),
  turn: { model: SCRIPTED_MODEL },
  envAllowList: [],
  success: {
    output: invocationOutput(scriptedFixture("success")),
    turn: { newSessionId: SCRIPTED_SESSION },
    expected: {
      finalText: "Wrote hello.txt",
      sessionId: SCRIPTED_SESSION,
      model: SCRIPTED_MODEL,
      // No model, no money: a known zero.
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0,
      costSource: "provider",
      turns: 2,
    },
  },
  resume: {
    output: invocationOutput(scriptedFixture("resume")),
    turn: { resumeSessionId: SCRIPTED_SESSION },
    expected: { finalText: "script finished: 1 step(s) run this turn", turns: 1 },
  },
  // The agent's report call refused by the API (a bad worker token).
  authFailure: {
    output: invocationOutput(scriptedFixture("auth-401"), { exitCode: 1 }),
    expected: { error: { code: "step_failed", message: expect.stringContaining("HTTP 401") } },
  },
});

/** The session id a recorded Claude stream names in its `system` init event. */
function sessionOf(stdout: string): string {
  for (const line of stdout.split("\n")) {
    const match = /"session_id":"([^"]+)"/.exec(line);
    if (match?.[1]) return match[1];
  }
  throw new Error("no session id in the recorded stream");
}
