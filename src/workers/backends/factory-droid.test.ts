import { describe, expect, it } from "vitest";
import {
  checkedParse,
  fixtureReader,
  outputFactory,
  turnFactory,
} from "../../../test/support/agent-backend-kit.js";
import { FactoryDroidBackend } from "./factory-droid.js";

const fixture = fixtureReader("factory-droid");

const SESSION = "8af22e0a-d222-42c6-8c7e-7a059e391b0b";

const turn = turnFactory({ model: "claude-sonnet-4-5-20250929" });
const out = outputFactory({ durationMs: 12_000 });

const backend = new FactoryDroidBackend();

const parse = checkedParse(backend, turn);

describe("FactoryDroidBackend.invocation", () => {
  it("starts a new session: stream-json, autonomy, model, workspace; prompt on stdin", () => {
    const inv = backend.invocation(turn());
    expect(inv.argv).toEqual([
      "droid",
      "exec",
      "-o",
      "stream-json",
      "--auto",
      "high",
      "-m",
      "claude-sonnet-4-5-20250929",
      "--cwd",
      "/workspace",
    ]);
    expect(inv.stdin).toBe("Implement TASK.md");
    expect(inv.env).toEqual({});
  });

  it("continues a session with -s", () => {
    const inv = backend.invocation(turn({ resumeSessionId: SESSION, prompt: "Report now." }));
    expect(inv.argv).toContain("-s");
    expect(inv.argv[inv.argv.indexOf("-s") + 1]).toBe(SESSION);
    expect(inv.stdin).toBe("Report now.");
  });

  it("takes the autonomy level and executable from its options", () => {
    for (const level of ["low", "medium", "high"] as const) {
      const inv = new FactoryDroidBackend({ autoLevel: level, command: "/opt/droid" }).invocation(turn());
      expect(inv.argv[0]).toBe("/opt/droid");
      expect(inv.argv[inv.argv.indexOf("--auto") + 1]).toBe(level);
    }
  });

  it("leaves the model to Droid when none is set", () => {
    expect(backend.invocation(turn({ model: "default" })).argv).not.toContain("-m");
  });

  it("puts the system prompt ahead of the first prompt of a session only", () => {
    expect(backend.invocation(turn({ systemPrompt: "You are the developer." })).stdin).toBe(
      "You are the developer.\n\n---\n\nImplement TASK.md",
    );
    expect(
      backend.invocation(turn({ systemPrompt: "You are the developer.", resumeSessionId: SESSION })).stdin,
    ).toBe("Implement TASK.md");
  });

  it("never puts the prompt in argv, even one that looks like a flag", () => {
    const inv = backend.invocation(turn({ prompt: "--skip-permissions-unsafe" }));
    expect(inv.argv).not.toContain("--skip-permissions-unsafe");
  });
});

describe("FactoryDroidBackend.parse", () => {
  it("uses usage when a completion carries it, estimating the cost", () => {
    const r = parse(out(fixture("usage")));
    expect(r.usage).toEqual({
      inputTokens: 1200,
      outputTokens: 300,
      cacheReadTokens: 4000,
      cacheWriteTokens: 800,
    });
    expect(r.costSource).toBe("estimated");
    expect(r.costUsd).toBeCloseTo((1200 * 3 + 300 * 15 + 4000 * 0.3 + 800 * 3.75) / 1e6, 6);
  });

  it("reports an error event (autonomy exceeded) with its message", () => {
    const r = parse(out(fixture("error"), { exitCode: 1 }));
    expect(r.ok).toBe(false);
    expect(r.stopReason).toBe("error");
    expect(r.error?.code).toBe("agent_error");
    expect(r.error?.message).toContain("requires autonomy level high");
    expect(r.sessionId).toBe("c1d0f3b2-5e6a-4f1b-9a2c-3b4d5e6f7a80");
    expect(r.model).toBe("gpt-5-codex");
  });

  it("reads the single-object json format", () => {
    const r = parse(out(fixture("json-success")));
    expect(r.ok).toBe(true);
    expect(r.finalText).toContain("Factory documentation repository");
    expect(r.durationMs).toBe(5657);
    expect(r.turns).toBe(1);
    expect(r.sessionId).toBe(SESSION);
  });

  it("reads json pretty-printed over several lines", () => {
    const pretty = JSON.stringify(JSON.parse(fixture("json-success")), null, 2);
    const r = parse(out(pretty));
    expect(r.ok).toBe(true);
    expect(r.sessionId).toBe(SESSION);
  });

  it("marks a timeout, keeping the session the partial stream named", () => {
    const partial = fixture("success").split("\n").slice(0, 4).join("\n");
    const r = parse(out(partial, { timedOut: true, exitCode: null, signal: "SIGKILL" }));
    expect(r.stopReason).toBe("timeout");
    expect(r.error?.code).toBe("timeout");
    expect(r.sessionId).toBe(SESSION);
    expect(r.finalText).toBe("I'll read the task first.");
  });

  it("fails on empty output, with stderr as the reason", () => {
    const r = parse(out("", { stderr: "FACTORY_API_KEY is not set" }));
    expect(r.error).toEqual({ code: "empty_output", message: "FACTORY_API_KEY is not set" });
  });

  it("fails on text output", () => {
    const r = parse(out("Perfect! I've created a Python file named hello_world.py"));
    expect(r.error?.code).toBe("bad_output");
  });

  it("fails on a non-zero exit even after a completion", () => {
    const r = parse(out(fixture("success"), { exitCode: 2, stderr: "crash" }));
    expect(r.error?.code).toBe("exit_code");
    expect(r.error?.message).toContain("crash");
  });

  it("fails when the stream ends without a completion", () => {
    const partial = fixture("success").split("\n").slice(0, 4).join("\n");
    expect(parse(out(partial)).error?.code).toBe("no_result");
  });

  it("never throws, whatever it is fed", () => {
    for (const junk of ["null", "[1]", '{"type":"completion"}', '{"type":"result","usage":"x"}', "{"]) {
      expect(() => parse(out(junk))).not.toThrow();
    }
  });
});

describe("FactoryDroidBackend.streamEvent", () => {
  it("surfaces assistant text, tool calls and the completion; ignores user echoes", () => {
    const events = fixture("success")
      .split("\n")
      .map((l) => backend.streamEvent(l))
      .filter((e) => e !== null);
    expect(events[0]).toEqual({ kind: "session", text: SESSION });
    expect(events).toContainEqual({ kind: "tool", text: "Execute npm test" });
    expect(events).toContainEqual({ kind: "tool", text: "Read /workspace/TASK.md" });
    expect(events.some((e) => e.text === "Implement TASK.md")).toBe(false);
    expect(events.at(-1)).toEqual({ kind: "completion", text: "Added GET /health; all 4 tests pass." });
    expect(backend.streamEvent(fixture("error").split("\n")[3] ?? "")?.kind).toBe("error");
    expect(backend.streamEvent("plain text")).toBeNull();
  });
});
