/**
 * Runs the real Claude Code binary (the npm-installed 2.1.197) against the fake Anthropic API:
 * scripted tool calls make it really write files, run commands and call an MCP tool. Each case
 * has its own workspace and HOME; the environment is built from scratch (only PATH is inherited).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { writeReportMcpConfig } from "../../../test/fakes/anthropic/mcp-config.js";
import { runBackendTurn, runCommand, testTurn } from "../../../test/fakes/anthropic/run-claude.js";
import {
  type FakeAnthropic,
  type MessagesBody,
  type RecordedRequest,
  startFakeAnthropic,
} from "../../../test/fakes/anthropic/server.js";
import { freePort } from "../../../test/support/ports.js";
import type { TurnRequest } from "../backend.js";
import { ROLE_BUILTIN_TOOLS } from "../role-tools.js";
import { ClaudeCodeBackend } from "./claude-code.js";

const CASE_TIMEOUT_MS = 120_000;
const TURN_TIMEOUT_MS = 90_000;
/** Failure paths must end well within this, not after minutes of retries. */
const BOUNDED_MS = 60_000;

const backend = new ClaudeCodeBackend();
let fake: FakeAnthropic;
let root: string;
let ws: string;
let home: string;
/** The CLI keeps per-project scratch files under $TMPDIR/claude-<uid>: keep them in the case's dir. */
let tmp: string;

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: "sk-ant-fake-test-key" });
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "claude-code-int-"));
  ws = join(root, "ws");
  home = join(root, "home");
  mkdirSync(ws);
  mkdirSync(home);
  tmp = join(root, "tmp");
  mkdirSync(tmp);
  fake.reset();
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function run(
  turn: TurnRequest,
  over: { home?: string; baseUrl?: string; env?: Record<string, string> } = {},
) {
  return runBackendTurn(backend, turn, {
    baseUrl: over.baseUrl ?? fake.url,
    home: over.home ?? home,
    timeoutMs: TURN_TIMEOUT_MS,
    env: { TMPDIR: tmp, ...over.env },
  });
}

const bash = (command: string) => ({ toolUse: { name: "Bash", input: { command, description: command } } });

/** The Messages API body of a recorded request (empty when there is none). */
function bodyOf(request: RecordedRequest | undefined): MessagesBody {
  return (request?.body ?? {}) as MessagesBody;
}

describe("Claude Code against the fake Anthropic API", () => {
  it(
    "writes a file, runs a command, reports tokens and cost; then resumes the same session",
    async () => {
      const sessionId = "0f6c2a9e-3c1d-4b7e-9a55-2d8e6b1f4c33";
      fake.enqueue(
        {
          toolUse: { name: "Write", input: { file_path: join(ws, "hello.txt"), content: "hello\n" } },
          usage: { input: 1200, output: 40, cacheRead: 300, cacheCreation: 500 },
        },
        {
          ...bash("echo ran > ran.txt"),
          usage: { input: 1300, output: 30, cacheRead: 800, cacheCreation: 0 },
        },
        { text: "Both done.", usage: { input: 1400, output: 20, cacheRead: 900, cacheCreation: 10 } },
      );
      const first = testTurn(ws, {
        prompt: "Create hello.txt, then record that you ran.",
        newSessionId: sessionId,
        systemPrompt: "You work for the orchestrator test suite.",
      });
      const before = fake.conversation().length;
      const output = await run(first);
      const result = backend.parse(output, first);

      expect(result.error).toBeNull();
      expect(result).toMatchObject({ ok: true, stopReason: "completed", finalText: "Both done.", turns: 3 });
      expect(readFileSync(join(ws, "hello.txt"), "utf8")).toBe("hello\n");
      expect(readFileSync(join(ws, "ran.txt"), "utf8")).toBe("ran\n");
      expect(result.usage).toEqual({
        inputTokens: 3900,
        outputTokens: 90,
        cacheReadTokens: 2000,
        cacheWriteTokens: 510,
      });
      expect(result.costUsd).toBeGreaterThan(0);
      expect(result.costSource).toBe("provider");
      expect(result.sessionId).toBe(sessionId);
      expect(result.model).toBe("claude-sonnet-4-5");
      const sent = fake.conversation().slice(before);
      expect(sent).toHaveLength(3);
      expect(JSON.stringify(bodyOf(sent[0]).system)).toContain("You work for the orchestrator test suite.");
      expect(sent[0]?.headers["x-api-key"]).toBe("sk-ant-fake-test-key");

      // (b) The next turn continues that session: the fake sees the earlier conversation.
      fake.enqueue({ text: "Continuing where we left off.", usage: { input: 2000, output: 10 } });
      const second = testTurn(ws, { prompt: "Now say where you are.", resumeSessionId: sessionId });
      const resumed = backend.parse(await run(second), second);
      expect(resumed.error).toBeNull();
      expect(resumed).toMatchObject({ ok: true, finalText: "Continuing where we left off.", sessionId });
      expect(resumed.usage.inputTokens).toBe(2000);
      const last = fake.conversation().at(-1);
      const history = JSON.stringify(bodyOf(last).messages ?? []);
      expect(history).toContain("Create hello.txt, then record that you ran.");
      expect(history).toContain("echo ran > ran.txt");
      expect(history).toContain("Both done.");
      expect(history).toContain("Now say where you are.");
    },
    CASE_TIMEOUT_MS,
  );

  it(
    "calls an orchestrator tool through --mcp-config",
    async () => {
      const reports = join(root, "reports.jsonl");
      fake.enqueue(
        {
          toolUse: {
            name: "mcp__orchestrator__report",
            input: { status: "complete", summary: "feature done", commit: "abc1234" },
          },
        },
        "Reported.",
      );
      const turn = testTurn(ws, { mcpConfigPath: writeReportMcpConfig(root, reports) });
      const before = fake.conversation().length;
      const result = backend.parse(await run(turn), turn);
      expect(result.error).toBeNull();
      expect(result.ok).toBe(true);
      expect(existsSync(reports)).toBe(true);
      const lines = readFileSync(reports, "utf8").trim().split("\n");
      expect(lines.map((l) => JSON.parse(l))).toEqual([
        { status: "complete", summary: "feature done", commit: "abc1234" },
      ]);
      // The CLI offered the tool to the model under its MCP name.
      const offered = bodyOf(fake.conversation()[before]).tools ?? [];
      expect(offered.map((t) => t.name)).toContain("mcp__orchestrator__report");
    },
    CASE_TIMEOUT_MS,
  );

  it(
    "offers a developer turn only its built-in tools beside the MCP ones, signed in with a bearer token",
    async () => {
      const reports = join(root, "reports.jsonl");
      fake.enqueue(
        bash("echo built > built.txt"),
        { toolUse: { name: "mcp__orchestrator__report", input: { status: "complete", summary: "lean" } } },
        "Reported.",
      );
      const turn = testTurn(ws, {
        systemPrompt: "You are the developer.",
        mcpConfigPath: writeReportMcpConfig(root, reports),
        builtinTools: ROLE_BUILTIN_TOOLS.developer,
      });
      const invocation = backend.invocation(turn);
      const before = fake.conversation().length;
      // A sandbox's credential can be a bearer token (ANTHROPIC_AUTH_TOKEN) with no API key at all.
      const output = await runCommand({
        argv: invocation.argv,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: home,
          TMPDIR: tmp,
          ANTHROPIC_BASE_URL: fake.url,
          ANTHROPIC_AUTH_TOKEN: "sk-ant-fake-test-key",
          ...invocation.env,
        },
        cwd: ws,
        stdin: invocation.stdin ?? "",
        timeoutMs: TURN_TIMEOUT_MS,
      });
      const result = backend.parse(output, turn);
      expect(result.error).toBeNull();
      expect(readFileSync(join(ws, "built.txt"), "utf8")).toBe("built\n");
      expect(JSON.parse(readFileSync(reports, "utf8"))).toEqual({ status: "complete", summary: "lean" });
      const first = fake.conversation()[before];
      expect(first?.headers.authorization).toBe("Bearer sk-ant-fake-test-key");
      expect(first?.headers["x-api-key"]).toBeUndefined();
      const body = bodyOf(first);
      expect((body.tools ?? []).map((t) => t.name).sort()).toEqual([
        "Bash",
        "Edit",
        "Read",
        "Write",
        "mcp__orchestrator__report",
      ]);
      const system = JSON.stringify(body.system);
      expect(system).toContain("You are the developer.");
      expect(system).not.toContain("auto memory");
      // The per-machine sections (the workspace path among them) moved out of the system prompt.
      expect(system).not.toContain(ws);
    },
    CASE_TIMEOUT_MS,
  );

  it(
    "ends at max turns with stop reason max_turns",
    async () => {
      fake.enqueue(bash("echo 1"), bash("echo 2"), bash("echo 3"));
      const turn = testTurn(ws, { maxTurns: 2 });
      const result = backend.parse(await run(turn), turn);
      expect(result).toMatchObject({ ok: false, stopReason: "max_turns", error: { code: "max_turns" } });
      expect(result.sessionId).toBeTruthy();
    },
    CASE_TIMEOUT_MS,
  );
});

describe("Claude Code failure paths", () => {
  it(
    "API answering 500: a typed failure with the CLI's message, bounded",
    async () => {
      fake.setFailure("api_error");
      const turn = testTurn(ws);
      const output = await run(turn);
      const result = backend.parse(output, turn);
      expect(output.timedOut).toBe(false);
      expect(output.durationMs).toBeLessThan(BOUNDED_MS);
      expect(result).toMatchObject({ ok: false, stopReason: "error", error: { code: "api_error" } });
      expect(result.error?.message).toContain("500");
    },
    CASE_TIMEOUT_MS,
  );

  it(
    "API unreachable (closed port): the CLI's own message, bounded",
    async () => {
      const turn = testTurn(ws);
      const output = await run(turn, { baseUrl: `http://127.0.0.1:${await freePort()}` });
      const result = backend.parse(output, turn);
      expect(output.durationMs).toBeLessThan(BOUNDED_MS);
      expect(result).toMatchObject({ ok: false, error: { code: "api_unreachable" } });
      expect(result.error?.message).toContain("Unable to connect");
    },
    CASE_TIMEOUT_MS,
  );

  it(
    "unwritable HOME (a file): a failure, not a false success",
    async () => {
      const badHome = join(root, "home-is-a-file");
      writeFileSync(badHome, "not a directory\n");
      fake.enqueue(bash("echo ran > ran.txt"), "Done.");
      const turn = testTurn(ws);
      const output = await run(turn, { home: badHome });
      const result = backend.parse(output, turn);
      expect(existsSync(join(ws, "ran.txt"))).toBe(false);
      expect(result.ok).toBe(false);
      expect(result.error?.code).toBe("home_unwritable");
    },
    CASE_TIMEOUT_MS,
  );

  it(
    "unwritable temp dir: exit 0 with empty output is a failure",
    async () => {
      const badTmp = join(root, "tmp-is-a-file");
      writeFileSync(badTmp, "not a directory\n");
      const turn = testTurn(ws);
      const output = await run(turn, { env: { TMPDIR: badTmp } });
      const result = backend.parse(output, turn);
      expect(output).toMatchObject({ stdout: "", exitCode: 0 });
      expect(result).toMatchObject({ ok: false, error: { code: "empty_output" } });
    },
    CASE_TIMEOUT_MS,
  );
});
