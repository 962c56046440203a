import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { TurnRequest } from "../../workers/index.js";
import { architectPrompt, developerPrompt, parsePromptHeader, TEMPLATE_LINE } from "./prompts.js";
import { demoPlaybook, developerScript, loadPlaybook, playbookScriptFor } from "./scripted-playbook.js";

const turn = (prompt: string): TurnRequest => ({
  prompt,
  resumeSessionId: null,
  newSessionId: "s",
  model: "scripted",
  systemPrompt: null,
  maxTurns: 10,
  budgetUsd: 1,
  mcpConfigPath: null,
  workspace: "/w",
});

describe("engineering prompts", () => {
  it("carry a header naming the stage and attempt", () => {
    const architect = architectPrompt({
      mode: "build",
      text: "x",
      templates: [],
      fixedTemplate: "web-service",
    });
    expect(parsePromptHeader(architect)).toEqual({ stage: "architect", attempt: 1 });
    const second = developerPrompt({ attempt: 2, maxAttempts: 3, branch: "main", lastTest: null });
    expect(parsePromptHeader(second)).toEqual({ stage: "developer", attempt: 2 });
    expect(parsePromptHeader("You did not report. Call report now.")).toBeNull();
  });

  it("give the developer the red verdict's output", () => {
    const prompt = developerPrompt({
      attempt: 2,
      maxAttempts: 3,
      branch: "change/x",
      lastTest: {
        commit: "abc1234",
        passed: false,
        reason: "tests_failed",
        counts: { passed: 3, failed: 1, skipped: 0, runner: "node" },
        exitCode: 1,
        outputTail: "not ok 4 - GET /api/time",
        durationMs: 10,
      },
    });
    expect(prompt).toContain("3 passed, 1 failed");
    expect(prompt).toContain("not ok 4 - GET /api/time");
    expect(prompt).toContain("git push origin change/x");
  });

  it("read the template line of a spec", () => {
    expect(TEMPLATE_LINE.exec("# Spec\n\nTemplate: `telegram-bot`\n")?.[1]).toBe("telegram-bot");
    expect(TEMPLATE_LINE.exec("template:web-service")?.[1]).toBe("web-service");
    expect(TEMPLATE_LINE.exec("We use a template: something else entirely")).toBeNull();
  });
});

describe("scripted playbook", () => {
  it("plays the architect's script, then one script per developer attempt, the last repeating", () => {
    const dev1 = developerScript({ "a.txt": "1" }, "one");
    const dev2 = developerScript({ "a.txt": "2" }, "two");
    const scriptFor = playbookScriptFor({ architect: demoPlaybook().architect, developer: [dev1, dev2] });
    const architect = architectPrompt({ mode: "build", text: "x", templates: [], fixedTemplate: null });
    expect(JSON.parse(scriptFor(turn(architect)))).toEqual(demoPlaybook().architect);
    const attempt = (n: number) =>
      JSON.parse(
        scriptFor(turn(developerPrompt({ attempt: n, maxAttempts: 3, branch: "main", lastTest: null }))),
      );
    expect(attempt(1)).toEqual(dev1);
    expect(attempt(2)).toEqual(dev2);
    expect(attempt(3)).toEqual(dev2);
    expect(scriptFor(turn("anything else"))).toBe("anything else");
  });

  it("loads a playbook file and names what is wrong with a bad one", async () => {
    const good = join(tmpdir(), `playbook-${process.pid}.json`);
    await writeFile(good, JSON.stringify(demoPlaybook()));
    expect(await loadPlaybook(good)).toEqual(demoPlaybook());
    const bad = join(tmpdir(), `playbook-bad-${process.pid}.json`);
    await writeFile(bad, JSON.stringify({ architect: { steps: [] }, developer: [] }));
    await expect(loadPlaybook(bad)).rejects.toMatchObject({ code: "bad_playbook" });
    await expect(loadPlaybook(join(tmpdir(), "no-such-playbook.json"))).rejects.toMatchObject({
      code: "bad_playbook",
    });
  });
});
