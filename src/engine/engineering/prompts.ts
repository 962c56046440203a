import type { TestVerdict } from "../../contracts/index.js";

/**
 * The messages the engineering stages send to agents. Each starts with a header line naming the
 * stage (and the developer's attempt), which people reading logs and the scripted playbook both use.
 */

const HEADER = /^\[engineering (architect|developer)(?: attempt (\d+)\/(\d+))?\]/;

export interface PromptHeader {
  stage: "architect" | "developer";
  attempt: number;
}

/** Reads the header of a prompt built here; null for any other text (e.g. a report reminder). */
export function parsePromptHeader(prompt: string): PromptHeader | null {
  const m = HEADER.exec(prompt.trimStart());
  if (!m) return null;
  return { stage: m[1] as PromptHeader["stage"], attempt: m[2] ? Number(m[2]) : 1 };
}

/** The line SPEC.md must carry so the Preparer knows which template to render. */
export const TEMPLATE_LINE = /^\s*template\s*:\s*`?([a-z0-9][a-z0-9-]*)`?\s*$/im;

export function architectPrompt(opts: {
  mode: "build" | "change";
  text: string;
  templates: { name: string; description: string }[];
  fixedTemplate: string | null;
}): string {
  const choice = opts.fixedTemplate
    ? `The project uses the template \`${opts.fixedTemplate}\`; keep the line \`Template: ${opts.fixedTemplate}\`.`
    : [
        "Choose the template that fits best and name it on its own line as `Template: <name>`:",
        ...opts.templates.map((t) => `- \`${t.name}\`: ${t.description}`),
      ].join("\n");
  const task =
    opts.mode === "build"
      ? `Write SPEC.md in the current folder for this brief:\n\n${opts.text}`
      : `The current folder holds the project. Update its SPEC.md for this change request:\n\n${opts.text}`;
  return [
    "[engineering architect]",
    "",
    task,
    "",
    "SPEC.md lists the features, the acceptance criteria (each one testable) and the template.",
    choice,
    "",
    "Do not write code and do not commit: the pipeline commits SPEC.md. When SPEC.md is written,",
    "call the `report` tool with status `complete` and a one-paragraph summary. If the brief cannot",
    "be built without an answer from the person, report status `blocked` with one short question.",
  ].join("\n");
}

export function developerPrompt(opts: {
  attempt: number;
  maxAttempts: number;
  branch: string;
  lastTest: TestVerdict | null;
}): string {
  const header = `[engineering developer attempt ${opts.attempt}/${opts.maxAttempts}]`;
  const steps = [
    `Implement TASK.md in this repository (branch \`${opts.branch}\`). Read SPEC.md and AGENTS.md first.`,
    "Run the project's tests (the `test` command in orchestrator.json) until they pass, commit,",
    `\`git push origin ${opts.branch}\`, then call the \`report\` tool with status \`complete\`, a summary`,
    "and the SHA of the commit you pushed. A deterministic tester checks out exactly that commit",
    "from the remote and runs the tests again: an unpushed commit fails.",
    "If you cannot go on without the person's answer, report `blocked` with one question; if you",
    "cannot do it at all, report `failed` with the reason.",
  ];
  if (!opts.lastTest) return [header, "", ...steps].join("\n");
  const counts = opts.lastTest.counts
    ? `${opts.lastTest.counts.passed} passed, ${opts.lastTest.counts.failed} failed`
    : "no test counts";
  return [
    header,
    "",
    `The tester ran commit ${opts.lastTest.commit}: red (${opts.lastTest.reason ?? "failed"}; ${counts}).`,
    "Last lines of its output:",
    "```",
    opts.lastTest.outputTail,
    "```",
    "Fix the cause, then do as before:",
    ...steps,
  ].join("\n");
}

/** TASK.md: what the Developer is to do in this run. */
export function taskFile(opts: { mode: "build" | "change"; text: string; runId: string }): string {
  const what = opts.mode === "build" ? "Build the project described here" : "Make this change";
  return [
    "# Task",
    "",
    `${what} (run ${opts.runId}). SPEC.md holds the features and acceptance criteria.`,
    "",
    opts.text,
    "",
    "Done means: the acceptance criteria in SPEC.md are covered by tests, the template's test",
    "command passes, and the commit is pushed and reported.",
    "",
  ].join("\n");
}

/** AGENTS.md: how agents work in this repository, with the generated tool reference. */
export function agentsFile(opts: { testCommand: string[]; installCommand: string[]; toolReference: string }) {
  return [
    "# Working in this repository",
    "",
    `- Install: \`${opts.installCommand.join(" ")}\``,
    `- Test: \`${opts.testCommand.join(" ")}\``,
    "- Keep `orchestrator.json` (the template manifest) valid: the deploy reads it.",
    "- Never commit secrets; configuration comes from the environment variables the manifest lists.",
    "- Finish every task with the `report` tool (status, summary, pushed commit SHA).",
    "",
    opts.toolReference.trim(),
    "",
  ].join("\n");
}
