import { describe, expect, it } from "vitest";
import { AppError } from "../../contracts/index.js";
import { AgentScript, findScript, STEP_KINDS, stepKind } from "./scripted-script.js";

describe("AgentScript", () => {
  it("accepts every kind of step, as an object or a bare array", () => {
    const steps = [
      { write: { path: "a.txt", content: "" } },
      { run: { argv: ["npm", "test"], timeoutMs: 1000, allowFailure: true } },
      { commit: { message: "m" } },
      { report: { status: "complete", summary: "s", commit: "HEAD" } },
      { report: { status: "blocked", summary: "s", question: "q?", commit: "abc1234" } },
      { progress: { step: "x", percent: 10, note: "n" } },
      { fail: { message: "boom" } },
      { sleep: { ms: 0 } },
      { pause: {} },
    ];
    expect(AgentScript.parse({ steps }).steps).toHaveLength(steps.length);
    expect(AgentScript.parse(steps).steps).toHaveLength(steps.length);
    expect(AgentScript.parse(steps).steps.map(stepKind)).toEqual([
      "write",
      "run",
      "commit",
      "report",
      "report",
      "progress",
      "fail",
      "sleep",
      "pause",
    ]);
    expect(STEP_KINDS).toHaveLength(8);
  });

  it("rejects unknown steps, two kinds in one step, empty scripts and bad values", () => {
    expect(AgentScript.safeParse({ steps: [] }).success).toBe(false);
    expect(AgentScript.safeParse([{ teleport: {} }]).success).toBe(false);
    expect(
      AgentScript.safeParse([{ write: { path: "a", content: "" }, commit: { message: "m" } }]).success,
    ).toBe(false);
    expect(AgentScript.safeParse([{ run: { argv: [] } }]).success).toBe(false);
    expect(AgentScript.safeParse([{ report: { status: "done", summary: "s" } }]).success).toBe(false);
    expect(
      AgentScript.safeParse([{ report: { status: "complete", summary: "s", commit: "main" } }]).success,
    ).toBe(false);
    expect(AgentScript.safeParse([{ sleep: { ms: -1 } }]).success).toBe(false);
    expect(AgentScript.safeParse([{ report: { status: "blocked", summary: "s" } }]).success).toBe(false);
  });
});

describe("findScript", () => {
  it("reads a whole-JSON text", () => {
    expect(findScript('  {"steps":[{"pause":{}}]}\n')?.steps).toEqual([{ pause: {} }]);
  });

  it("reads a fenced agent-script block inside prose", () => {
    const text = 'Do this:\n```agent-script\n[{"sleep":{"ms":5}}]\n```\nThanks.';
    expect(findScript(text)?.steps).toEqual([{ sleep: { ms: 5 } }]);
  });

  it("returns null for prose without a script", () => {
    expect(findScript("Implement TASK.md")).toBeNull();
    expect(findScript("")).toBeNull();
  });

  it("throws bad_script with details for a broken one", () => {
    expect(() => findScript("{nope")).toThrow(AppError);
    try {
      findScript('{"steps":[{"write":{"path":""}}]}');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe("bad_script");
      expect((error as AppError).details.length).toBeGreaterThan(0);
    }
  });
});
