import { describe, expect, it } from "vitest";
import {
  checkedParse,
  fixtureReader,
  outputFactory,
  turnFactory,
} from "../../../test/support/agent-backend-kit.js";
import { CODEX_MAX_PROMPT_ARG_BYTES, CodexBackend } from "./codex.js";

const fixture = fixtureReader("codex");
const turn = turnFactory({ model: "gpt-5-codex" });
const out = outputFactory({ durationMs: 4321 });
const backend = new CodexBackend();

const parse = checkedParse(backend, turn);

describe("CodexBackend.invocation", () => {
  it("starts a new thread with JSON events, the model and non-interactive flags, prompt as argument", () => {
    const inv = backend.invocation(turn());
    expect(inv.argv).toEqual([
      "codex",
      "exec",
      "--json",
      "--skip-git-repo-check",
      "--dangerously-bypass-approvals-and-sandbox",
      "--model",
      "gpt-5-codex",
      "Implement TASK.md",
    ]);
    expect(inv.stdin).toBeUndefined();
    expect(inv.env).toEqual({});
  });

  it("resumes a thread by id, flags before the subcommand", () => {
    const inv = backend.invocation(turn({ resumeSessionId: "0199a213-81c0", prompt: "Now fix the test" }));
    expect(inv.argv.slice(-3)).toEqual(["resume", "0199a213-81c0", "Now fix the test"]);
    expect(inv.argv.indexOf("--model")).toBeLessThan(inv.argv.indexOf("resume"));
  });

  it("leaves the model to Codex's default when none is set", () => {
    expect(backend.invocation(turn({ model: "default" })).argv).not.toContain("--model");
    expect(backend.invocation(turn({ model: " " })).argv).not.toContain("--model");
  });

  it("uses Codex's workspace-write sandbox when asked, and another executable", () => {
    const inv = new CodexBackend({ command: "/opt/codex/bin/codex", sandbox: "workspace-write" }).invocation(
      turn(),
    );
    expect(inv.argv[0]).toBe("/opt/codex/bin/codex");
    expect(inv.argv).toContain("--sandbox");
    expect(inv.argv).not.toContain("--dangerously-bypass-approvals-and-sandbox");
  });

  it("puts the system prompt ahead of the first prompt of a thread only", () => {
    const fresh = backend.invocation(turn({ systemPrompt: "You are the developer." }));
    expect(fresh.argv.at(-1)).toBe("You are the developer.\n\n---\n\nImplement TASK.md");
    const resumed = backend.invocation(
      turn({ systemPrompt: "You are the developer.", resumeSessionId: "t1" }),
    );
    expect(resumed.argv.at(-1)).toBe("Implement TASK.md");
  });

  it("sends a huge prompt, or one that looks like a flag, through stdin", () => {
    const big = "x".repeat(CODEX_MAX_PROMPT_ARG_BYTES + 1);
    const inv = backend.invocation(turn({ prompt: big }));
    expect(inv.argv.at(-1)).toBe("-");
    expect(inv.stdin).toBe(big);
    const dash = backend.invocation(turn({ prompt: "--help me" }));
    expect(dash.argv.at(-1)).toBe("-");
    expect(dash.stdin).toBe("--help me");
  });
});

describe("CodexBackend.parse", () => {
  it("completes a turn whose commands failed: the agent's verdict is in its message", () => {
    const r = parse(out(fixture("command-failed")));
    expect(r.ok).toBe(true);
    expect(r.finalText).toContain("One test fails");
    expect(r.usage.inputTokens).toBe(12_000);
  });

  it("reports a stream error before any turn, keeping the session it tried to resume", () => {
    const r = parse(out(fixture("error"), { exitCode: 1 }), turn({ resumeSessionId: "0199a299-dead" }));
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe("agent_error");
    expect(r.error?.message).toContain("no rollout found");
    expect(r.sessionId).toBe("0199a299-dead");
    expect(r.turns).toBe(0);
  });

  it("marks a timeout, keeping what the partial stream said", () => {
    const partial = fixture("success").split("\n").slice(0, 5).join("\n");
    const r = parse(out(partial, { timedOut: true, exitCode: null, signal: "SIGKILL" }));
    expect(r.ok).toBe(false);
    expect(r.stopReason).toBe("timeout");
    expect(r.error?.code).toBe("timeout");
    expect(r.sessionId).toBe("0199a213-81c0-7800-8aa1-bbab2a035a53");
  });

  it("fails on empty output, with stderr as the reason", () => {
    const r = parse(out("  \n", { stderr: "Error: not logged in" }));
    expect(r.error).toEqual({ code: "empty_output", message: "Error: not logged in" });
  });

  it("fails on output that is not JSON events", () => {
    const r = parse(out("Usage: codex exec [OPTIONS] [PROMPT]\n", { exitCode: 2 }));
    expect(r.error?.code).toBe("bad_output");
    expect(parse(out("{not json")).error?.code).toBe("bad_output");
  });

  it("fails on a non-zero exit after a completed turn", () => {
    const r = parse(out(fixture("success"), { exitCode: 3, stderr: "panic" }));
    expect(r.error?.code).toBe("exit_code");
    expect(r.error?.message).toContain("panic");
  });

  it("fails when the stream ends without a completed turn", () => {
    const partial = fixture("success").split("\n").slice(0, 3).join("\n");
    expect(parse(out(partial)).error?.code).toBe("no_result");
  });

  it("prices an unknown model as unknown", () => {
    const r = parse(out(fixture("success")), turn({ model: "my-local-model" }));
    expect(r.costSource).toBe("unknown");
    expect(r.costUsd).toBe(0);
  });

  it("never throws, whatever it is fed", () => {
    for (const junk of [
      "null",
      "[]",
      '{"type":"turn.completed","usage":null}',
      '{"type":"item.completed"}',
      "\u0000",
    ]) {
      expect(() => parse(out(junk))).not.toThrow();
    }
    const r = parse(out('{"type":"turn.started"}\n{"type":"turn.completed","usage":{"input_tokens":-5}}'));
    expect(r.usage.inputTokens).toBe(0);
  });
});

describe("CodexBackend.streamEvent", () => {
  it("surfaces messages, commands, file changes and errors; ignores the rest", () => {
    const events = fixture("success")
      .split("\n")
      .map((l) => backend.streamEvent(l))
      .filter((e) => e !== null);
    expect(events).toContainEqual({ kind: "session", text: "0199a213-81c0-7800-8aa1-bbab2a035a53" });
    expect(events).toContainEqual({ kind: "command", text: "bash -lc 'npm test' (exit 0)" });
    expect(events).toContainEqual({ kind: "file_change", text: "add src/health.ts, update src/server.ts" });
    expect(events.at(-1)?.kind).toBe("message");
    expect(backend.streamEvent('{"type":"turn.failed","error":{"message":"boom"}}')).toEqual({
      kind: "error",
      text: "boom",
    });
    expect(backend.streamEvent("not json")).toBeNull();
    expect(backend.streamEvent('{"type":"turn.started"}')).toBeNull();
  });
});
