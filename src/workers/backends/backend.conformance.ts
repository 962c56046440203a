import { afterEach, describe, expect, it, vi } from "vitest";
import { checkedParse, outputFactory, turnFactory } from "../../../test/support/agent-backend-kit.js";
import type { AgentResult, StopReason } from "../../contracts/index.js";
import type { AgentBackend, InvocationOutput, TurnRequest } from "../backend.js";

/** One recorded turn of a backend and what its normalized result must hold (`toMatchObject`). */
export interface RecordedTurn {
  output: InvocationOutput;
  /** Fields of the turn that produced it, on top of the suite's turn. */
  turn?: Partial<TurnRequest>;
  /** Matched against the parsed result; asymmetric matchers (`expect.closeTo`) are welcome. */
  expected: Record<string, unknown>;
}

/** A stop on a bound the CLI itself enforces (its turn cap, its budget). */
export interface RecordedStop extends RecordedTurn {
  stopReason: Extract<StopReason, "max_turns" | "budget">;
}

/** What the suite needs to know about one backend: how to make it and its recorded turns. */
export interface BackendUnderTest {
  make(): AgentBackend;
  /** Defaults of the suite's turns for this backend (model name and the like). */
  turn?: Partial<TurnRequest>;
  /** Names the backend may add to the command's environment (the caller's allow-list does the rest). */
  envAllowList: readonly string[];
  /** A completed turn of a new session. `expected` must name `sessionId` and `finalText`. */
  success: RecordedTurn;
  /** A completed turn of a resumed session (`turn.resumeSessionId` set). */
  resume: RecordedTurn;
  /** A turn that failed on the model API's authentication. `expected` names the error. */
  authFailure: RecordedTurn;
  /** Stops on the CLI's own bounds, where the CLI has them. */
  stops?: RecordedStop[];
}

/** Values put where a careless backend could copy them from: they must never reach the command. */
const CANARY = "conformance-canary-5f1d9c";
const CREDENTIAL_VARS = [
  "ANTHROPIC_API_KEY",
  "OPENAI_API_KEY",
  "FACTORY_API_KEY",
  "ORCHESTRATOR_TOKEN",
  "GITHUB_TOKEN",
];
const CREDENTIAL_NAME = /KEY|TOKEN|SECRET|PASSWORD/i;
const NO_USAGE = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

/** A finished invocation (exit 0, nothing on stderr, 1 s) with `over` on top. */
export const invocationOutput = outputFactory();

/**
 * The behaviour every `AgentBackend` must show over its recorded output: its command is data (argv,
 * an allow-listed environment, no credential), and any output, good or bad, becomes a normalized
 * `AgentResult` that a caller can trust (`ok` only for a completed turn, a reason for every failure).
 */
export function agentBackendConformance(name: string, subject: BackendUnderTest): void {
  const backend = subject.make();
  const turn = turnFactory(subject.turn);
  const checked = checkedParse(backend, turn);
  /** Parses, checking the result against the contract schema (with the report the manager adds). */
  const parse = (output: InvocationOutput, over: Partial<TurnRequest> = {}) => checked(output, turn(over));
  const expectFailure = (result: Omit<AgentResult, "report">, stopReason: StopReason, code: string) => {
    expect(result).toMatchObject({ ok: false, stopReason, error: { code } });
    expect(result.error?.message.trim()).not.toBe("");
  };

  describe(`AgentBackend conformance: ${name}`, () => {
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    describe("invocation", () => {
      it("is an argument array naming a program, with an allow-listed environment", () => {
        const inv = backend.invocation(turn({ newSessionId: "sess-new-1", systemPrompt: "Be brief." }));
        expect(inv.argv.length).toBeGreaterThan(0);
        expect(inv.argv[0]).toBeTruthy();
        for (const arg of inv.argv) expect(typeof arg).toBe("string");
        for (const key of Object.keys(inv.env)) {
          expect(subject.envAllowList).toContain(key);
          expect(key).not.toMatch(CREDENTIAL_NAME);
        }
        if (inv.stdin !== undefined) expect(typeof inv.stdin).toBe("string");
      });

      it("never copies a credential of its own process into the command", () => {
        for (const variable of CREDENTIAL_VARS) vi.stubEnv(variable, `${CANARY}-${variable}`);
        const inv = backend.invocation(
          turn({ newSessionId: "sess-new-1", mcpConfigPath: "/home/w/mcp.json" }),
        );
        expect(JSON.stringify(inv)).not.toContain(CANARY);
      });

      it("delivers the prompt, and never as an argument that reads as a flag", () => {
        const inv = backend.invocation(turn({ prompt: "--delete-everything then implement TASK.md" }));
        expect(inv.argv).not.toContain("--delete-everything then implement TASK.md");
        expect(inv.argv.some((a) => a.startsWith("--delete-everything"))).toBe(false);
        expect(inv.stdin ?? "").toContain("--delete-everything then implement TASK.md");
      });

      it("resumes the session it is given, ignoring a new session id", () => {
        const inv = backend.invocation(
          turn({ resumeSessionId: "sess-resume-1", newSessionId: "sess-new-1" }),
        );
        expect(inv.argv).toContain("sess-resume-1");
        expect(inv.argv).not.toContain("sess-new-1");
        expect(backend.invocation(turn()).argv).not.toContain("sess-resume-1");
      });
    });

    describe("parse", () => {
      it("reads a completed turn: text, session id, usage, cost and its source", () => {
        const result = parse(subject.success.output, subject.success.turn);
        expect(result).toMatchObject({ ok: true, stopReason: "completed", error: null });
        expect(result).toMatchObject(subject.success.expected);
        expect(result.sessionId).toBeTruthy();
        expect(result.finalText.trim()).not.toBe("");
        expect(result.costUsd).toBeGreaterThanOrEqual(0);
        // Money counted by nobody is never presented as a provider's figure.
        if (result.costSource === "unknown") expect(result.costUsd).toBe(0);
      });

      it("reads a resumed turn, keeping the session", () => {
        const resumed = subject.resume.turn?.resumeSessionId;
        expect(resumed).toBeTruthy();
        const result = parse(subject.resume.output, subject.resume.turn);
        expect(result).toMatchObject({ ok: true, stopReason: "completed", error: null, sessionId: resumed });
        expect(result).toMatchObject(subject.resume.expected);
      });

      it("reads an authentication failure as a failed turn with its reason", () => {
        const result = parse(subject.authFailure.output, subject.authFailure.turn);
        expect(result).toMatchObject({ ok: false, stopReason: "error" });
        expect(result.error?.message.trim()).not.toBe("");
        expect(result).toMatchObject(subject.authFailure.expected);
      });

      for (const stop of subject.stops ?? []) {
        it(`reads a stop on the CLI's own bound as ${stop.stopReason}`, () => {
          const result = parse(stop.output, stop.turn);
          expectFailure(result, stop.stopReason, stop.stopReason);
          expect(result).toMatchObject(stop.expected);
        });
      }

      it("fails on empty output, even with exit 0", () => {
        expectFailure(parse(invocationOutput("")), "error", "empty_output");
        expectFailure(parse(invocationOutput("  \n", { stderr: "not logged in" })), "error", "empty_output");
      });

      it("fails on output that is not its JSON", () => {
        expectFailure(
          parse(invocationOutput("Usage: agent [OPTIONS]\n", { exitCode: 2 })),
          "error",
          "bad_output",
        );
      });

      it("reports a timeout, keeping the session the stream named", () => {
        const sessionId = subject.success.expected.sessionId;
        const output = { ...subject.success.output, timedOut: true, exitCode: null, signal: "SIGKILL" };
        const result = parse(output, subject.success.turn);
        expectFailure(result, "timeout", "timeout");
        expect(result.sessionId).toBe(sessionId);
      });

      it("reports a killed process, even after a completed stream", () => {
        expectFailure(parse(invocationOutput("", { exitCode: null, signal: "SIGKILL" })), "error", "killed");
        expectFailure(
          parse({ ...subject.success.output, exitCode: 137 }, subject.success.turn),
          "error",
          "killed",
        );
      });

      it("does not take a completed stream with a failing exit code for success", () => {
        const result = parse(
          { ...subject.success.output, exitCode: 3, stderr: "crash" },
          subject.success.turn,
        );
        expect(result.ok).toBe(false);
        expect(result.error?.code).toBe("exit_code");
      });

      it("never throws, whatever it is fed", () => {
        for (const junk of [
          "null",
          "[1,2]",
          "{",
          "\u0000",
          '{"type":"result"}',
          '{"usage":"x","num_turns":-3}',
        ]) {
          expect(() => parse(invocationOutput(junk))).not.toThrow();
        }
        // What is not JSON counts nothing.
        expect(parse(invocationOutput("{")).usage).toEqual(NO_USAGE);
      });
    });

    // A backend without progress events has nothing to check here.
    if (backend.streamEvent) {
      describe("streamEvent", () => {
        it("ignores what is not an event and shows the recorded stream's progress", () => {
          expect(backend.streamEvent?.("not json")).toBeNull();
          expect(backend.streamEvent?.("")).toBeNull();
          const events = subject.success.output.stdout
            .split("\n")
            .map((line) => backend.streamEvent?.(line) ?? null)
            .filter((e) => e !== null);
          expect(events.length).toBeGreaterThan(0);
          for (const event of events) expect(event.kind).toBeTruthy();
        });
      });
    }
  });
}
