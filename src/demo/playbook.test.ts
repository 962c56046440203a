import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { developerPromptFor, revisionPromptFor } from "../../test/support/prompts.js";
import { architectPrompt } from "../engine/index.js";
import type { TurnRequest } from "../workers/index.js";
import {
  architectScript,
  demoPlaybook,
  developerScript,
  loadPlaybook,
  playbookScriptFor,
  timeAcceptanceFiles,
} from "./playbook.js";

const dev = developerPromptFor;
const revision = revisionPromptFor;

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

describe("scripted playbook", () => {
  it("plays the architect's script, then one script per developer attempt, the last repeating", () => {
    const dev1 = developerScript({ "a.txt": "1" }, "one");
    const dev2 = developerScript({ "a.txt": "2" }, "two");
    const scriptFor = playbookScriptFor({ architect: demoPlaybook().architect, developer: [dev1, dev2] });
    const architect = architectPrompt({ mode: "build", text: "x", templates: [], fixedTemplate: null });
    expect(JSON.parse(scriptFor(turn(architect)))).toEqual(demoPlaybook().architect);
    const attempt = (n: number) => JSON.parse(scriptFor(turn(dev(n))));
    expect(attempt(1)).toEqual(dev1);
    expect(attempt(2)).toEqual(dev2);
    expect(attempt(3)).toEqual(dev2);
    expect(scriptFor(turn("anything else"))).toBe("anything else");
    // Without revision scripts the developer replays its attempt's script; the architect cannot answer.
    const answer = { number: 1, commit: "abc1234", answer: "a", files: [] };
    expect(JSON.parse(scriptFor(turn(dev(2, { answer }))))).toEqual(dev2);
    expect(() => scriptFor(turn(revision(1)))).toThrow(/no script for acceptance revision 1/);
  });

  it("plays the architect's answer and the developer's next turn per acceptance revision", () => {
    const dev1 = developerScript({ "a.txt": "1" }, "one");
    const fix1 = developerScript({ "a.txt": "fixed" }, "after one");
    const answer1 = architectScript("web-service", ["x"], timeAcceptanceFiles("now"));
    const answer2 = architectScript("web-service", ["y"], timeAcceptanceFiles("time"));
    const scriptFor = playbookScriptFor({
      architect: demoPlaybook().architect,
      developer: [dev1],
      revisions: [{ architect: answer1, developer: fix1 }, { architect: answer2 }],
    });
    expect(JSON.parse(scriptFor(turn(revision(1))))).toEqual(answer1);
    expect(JSON.parse(scriptFor(turn(revision(2))))).toEqual(answer2);
    expect(JSON.parse(scriptFor(turn(revision(3))))).toEqual(answer2);
    const answer = (n: number) => ({ number: n, commit: null, answer: "a", files: [] });
    expect(JSON.parse(scriptFor(turn(dev(1, { answer: answer(1) }))))).toEqual(fix1);
    expect(JSON.parse(scriptFor(turn(dev(1, { answer: answer(2) }))))).toEqual(dev1);
  });

  it("has the demo's architect write an acceptance test for GET /api/time", () => {
    const steps = demoPlaybook().architect.steps;
    const written = steps.flatMap((s) => ("write" in s ? [s.write.path] : []));
    expect(written).toEqual(["SPEC.md", "test/acceptance/time.test.ts"]);
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
