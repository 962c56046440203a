import { describe, expect, it } from "vitest";
import { developerPromptFor, revisionPromptFor } from "../../../test/support/prompts.js";
import { parsePromptHeader } from "../../contracts/index.js";
import { listTemplates } from "../../templates/index.js";
import { choiceOf } from "./architect.js";
import { agentsFile, architectPrompt, revisionPrompt, TEMPLATE_LINE, taskFile } from "./prompts.js";

const dev = developerPromptFor;
const revision = revisionPromptFor;

describe("engineering prompts", () => {
  it("carry a header naming the stage and attempt", () => {
    const architect = architectPrompt({
      mode: "build",
      text: "x",
      templates: [],
      fixedTemplate: "web-service",
    });
    expect(parsePromptHeader(architect)).toEqual({ stage: "architect", attempt: 1, revision: null });
    expect(parsePromptHeader(dev(2))).toEqual({ stage: "developer", attempt: 2, revision: null });
    expect(parsePromptHeader(revision(2))).toEqual({ stage: "architect", attempt: 1, revision: 2 });
    const answer = { number: 1, commit: "abc1234", answer: "fixed the key", files: [] };
    const after = dev(2, { answer });
    expect(parsePromptHeader(after)).toEqual({ stage: "developer", attempt: 2, revision: 1 });
    expect(after).toContain("revised the acceptance tests in abc1234: fixed the key");
    expect(after).toContain("git pull --rebase origin main");
    expect(dev(1, { answer: { ...answer, commit: null } })).toContain(
      "kept the acceptance tests: fixed the key",
    );
    expect(parsePromptHeader("You did not report. Call report now.")).toBeNull();
  });

  it("tell the developer the acceptance tests are fixed and how to question one", () => {
    expect(dev(1)).toContain("`test/acceptance/` must pass; never edit them");
    expect(dev(1)).toContain("`acceptanceTest`");
  });

  it("list each template's acceptance folder, guide and environment for the architect", () => {
    const prompt = architectPrompt({
      mode: "build",
      text: "x",
      templates: [
        {
          name: "web-service",
          description: "A service.",
          acceptance: { dir: "test/acceptance", guide: "use startService()" },
          env: [
            { name: "PORT", kind: "allocated-port", required: true, description: "The port." },
            { name: "DATA_DIR", kind: "computed", required: true, description: "Kept across releases." },
          ],
        },
      ],
      fixedTemplate: null,
    });
    expect(prompt).toContain(
      "`web-service`: A service. Its acceptance tests in `test/acceptance/`: use startService()",
    );
    expect(prompt).toContain("  - `DATA_DIR` (computed, required): Kept across releases.");
  });

  it("list the built-in templates' own environment contracts, as their manifests declare them", async () => {
    const templates = (await listTemplates()).map((t) => choiceOf(t.name, t.manifest));
    const prompt = architectPrompt({ mode: "build", text: "x", templates, fixedTemplate: null });
    for (const { name, manifest } of await listTemplates()) {
      expect(prompt).toContain(`\`${name}\`: ${manifest.description}`);
      for (const variable of manifest.env) {
        const required = variable.required ? ", required" : "";
        expect(prompt).toContain(
          `  - \`${variable.name}\` (${variable.kind}${required}): ${variable.description}`,
        );
      }
    }
    expect(prompt).toContain("`DATA_DIR` (computed, required)");
    expect(prompt).toContain("`TELEGRAM_BOT_TOKEN`");
  });

  it("write the template's conventions after the generic part of AGENTS.md", () => {
    const file = agentsFile({
      installCommand: ["npm", "install"],
      testCommand: ["npm", "test"],
      acceptance: { dir: "test/acceptance", test: ["node", "run.mjs"] },
      toolReference: "## Tools\n- report",
      conventions: "## Where code goes\nFeatures live in src/features/.\n",
    });
    expect(file.indexOf("## Tools")).toBeLessThan(file.indexOf("## Where code goes"));
    expect(file).toContain("Features live in src/features/.");
    const generic = agentsFile({
      installCommand: ["npm", "install"],
      testCommand: ["npm", "test"],
      acceptance: { dir: "test/acceptance", test: ["node", "run.mjs"] },
      toolReference: "## Tools",
      conventions: null,
    });
    expect(generic.trimEnd().endsWith("## Tools")).toBe(true);
  });

  it("give the developer the red verdict's output", () => {
    const prompt = dev(2, {
      branch: "change/x",
      lastTest: {
        commit: "abc1234",
        passed: false,
        reason: "tests_failed",
        counts: { passed: 3, failed: 1, skipped: 0, runner: "node" },
        exitCode: 1,
        outputTail: "not ok 4 - GET /api/time",
        durationMs: 10,
        preparedCommit: "0123456",
        changedAcceptance: [],
        acceptanceCounts: { passed: 0, failed: 1, skipped: 0, runner: "node" },
        ran: true,
      },
    });
    expect(prompt).toContain("3 passed, 1 failed; acceptance 0 passed, 1 failed");
    expect(prompt).toContain("not ok 4 - GET /api/time");
    expect(prompt).toContain("git push origin change/x");
  });

  it("tell every agent of a continuation the person's answers, after the header", () => {
    const answers = [
      { question: "Which city?", answer: "Berlin" },
      { question: "Celsius or Fahrenheit?", answer: "Celsius" },
    ];
    const lines = ["- Q: Which city?", "  A: Berlin", "- Q: Celsius or Fahrenheit?", "  A: Celsius"].join(
      "\n",
    );
    const architect = architectPrompt({
      mode: "build",
      text: "weather",
      templates: [],
      fixedTemplate: null,
      answers,
    });
    const developer = dev(1, { answers });
    const revised = revisionPrompt({
      revision: 1,
      maxRevisions: 2,
      dir: "test/acceptance",
      test: "test/acceptance/a.test.ts",
      question: "why?",
      answers,
    });
    const task = taskFile({
      mode: "build",
      text: "weather",
      runId: "r",
      acceptanceDir: "test/acceptance",
      answers,
    });
    for (const prompt of [architect, developer, revised, task]) expect(prompt).toContain(lines);
    expect(parsePromptHeader(architect)).toEqual({ stage: "architect", attempt: 1, revision: null });
    expect(parsePromptHeader(developer)).toEqual({ stage: "developer", attempt: 1, revision: null });
    expect(parsePromptHeader(revised)).toEqual({ stage: "architect", attempt: 1, revision: 1 });
    // A run that was not continued says nothing about answers.
    expect(dev(1)).not.toContain("The person answered");
    expect(architectPrompt({ mode: "build", text: "x", templates: [], fixedTemplate: null })).not.toContain(
      "The person answered",
    );
  });

  it("read the template line of a spec", () => {
    expect(TEMPLATE_LINE.exec("# Spec\n\nTemplate: `telegram-bot`\n")?.[1]).toBe("telegram-bot");
    expect(TEMPLATE_LINE.exec("template:web-service")?.[1]).toBe("web-service");
    expect(TEMPLATE_LINE.exec("We use a template: something else entirely")).toBeNull();
  });
});
