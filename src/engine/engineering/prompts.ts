import type { EngineeringAnswer, TestVerdict } from "../../contracts/index.js";
import type { AcceptanceAnswer } from "./state.js";

/**
 * The messages the engineering stages send to agents. Each starts with a header line naming the
 * stage (the developer's attempt, the acceptance revision), which people reading logs and the
 * scripted playbook both use. Every word is sent on every turn: keep them short.
 */

/** The line SPEC.md must carry so the Preparer knows which template to render. */
export const TEMPLATE_LINE = /^\s*template\s*:\s*`?([a-z0-9][a-z0-9-]*)`?\s*$/im;

/**
 * A template as the Architect sees it: what it is for, how its acceptance tests are written and its
 * environment contract (so a spec needing a secret or stored data names the variable it uses).
 */
export interface TemplateChoice {
  name: string;
  description: string;
  acceptance: { dir: string; guide: string } | null;
  env: { name: string; kind: string; required: boolean; description: string }[];
}

const acceptanceLine = (t: TemplateChoice) =>
  t.acceptance
    ? `acceptance tests in \`${t.acceptance.dir}/\`: ${t.acceptance.guide}`
    : "no acceptance tests";

/** The template's environment as indented lines under its entry. */
const envLines = (t: TemplateChoice) =>
  t.env.length === 0
    ? []
    : [
        "  Environment (a new secret or setting is added here and in the manifest):",
        ...t.env.map(
          (e) => `  - \`${e.name}\` (${e.kind}${e.required ? ", required" : ""}): ${e.description}`,
        ),
      ];

/**
 * The person's answers to questions earlier runs of this work asked (a continuation): every agent
 * after them is told, since a fresh session knows nothing of the run that asked.
 */
function answersLines(answers: readonly EngineeringAnswer[] | undefined): string[] {
  if (!answers || answers.length === 0) return [];
  return [
    "The person answered questions asked earlier in this work; follow their answers:",
    ...answers.flatMap((a) => [`- Q: ${a.question}`, `  A: ${a.answer}`]),
    "",
  ];
}

export function architectPrompt(opts: {
  mode: "build" | "change";
  text: string;
  templates: TemplateChoice[];
  fixedTemplate: string | null;
  answers?: readonly EngineeringAnswer[];
}): string {
  const fixed = opts.templates.find((t) => t.name === opts.fixedTemplate);
  const choice = opts.fixedTemplate
    ? [
        `The project uses the template \`${opts.fixedTemplate}\`; keep the line \`Template: ${opts.fixedTemplate}\`.`,
        ...(fixed ? [`Its ${acceptanceLine(fixed)}`, ...envLines(fixed)] : []),
      ].join("\n")
    : [
        "Choose the template that fits best and name it on its own line as `Template: <name>`:",
        ...opts.templates.flatMap((t) => [
          `- \`${t.name}\`: ${t.description} Its ${acceptanceLine(t)}`,
          ...envLines(t),
        ]),
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
    ...answersLines(opts.answers),
    "SPEC.md lists the features, the acceptance criteria (each one testable) and the template.",
    choice,
    "",
    "Then write the acceptance tests: at least one test per feature of the request, in the",
    "template's acceptance folder, testing behaviour through the harness described. No code and",
    "no commit: the pipeline commits SPEC.md and that folder (nothing else you write is kept).",
    "Then call the `report` tool with status `complete` and a one-paragraph summary. If the",
    "request cannot be built without an answer from the person, report `blocked` with one question.",
  ].join("\n");
}

/** The Architect's turn when the developer questions an acceptance test. */
export function revisionPrompt(opts: {
  revision: number;
  maxRevisions: number;
  dir: string;
  test: string;
  question: string;
  answers?: readonly EngineeringAnswer[];
}): string {
  return [
    `[engineering architect revision ${opts.revision}/${opts.maxRevisions}]`,
    "",
    ...answersLines(opts.answers),
    `The developer says the acceptance test \`${opts.test}\` is wrong:`,
    "",
    opts.question,
    "",
    `The current folder holds SPEC.md, the code so far and \`${opts.dir}/\` as you prepared it.`,
    `If the test is wrong, fix it (only changes in \`${opts.dir}/\` are kept); if it is right, leave`,
    "it. Then report `complete` with a summary that answers the developer. Report `blocked` with a",
    "question only if the person must decide.",
  ].join("\n");
}

function answerLines(answer: AcceptanceAnswer, branch: string): string[] {
  if (!answer.commit) return [`The architect kept the acceptance tests: ${answer.answer}`, ""];
  return [
    `The architect revised the acceptance tests in ${answer.commit}: ${answer.answer}`,
    `Run \`git pull --rebase origin ${branch}\` first; your commit must descend from it.`,
    "",
  ];
}

export function developerPrompt(opts: {
  attempt: number;
  maxAttempts: number;
  branch: string;
  acceptanceDir: string;
  lastTest: TestVerdict | null;
  answer: AcceptanceAnswer | null;
  /** The person's answers carried by a continuation. */
  answers?: readonly EngineeringAnswer[];
}): string {
  const revision = opts.answer ? ` revision ${opts.answer.number}` : "";
  const header = `[engineering developer attempt ${opts.attempt}/${opts.maxAttempts}${revision}]`;
  const steps = [
    `Implement TASK.md in this repository (branch \`${opts.branch}\`). Read SPEC.md and AGENTS.md first.`,
    `The acceptance tests in \`${opts.acceptanceDir}/\` must pass; never edit them. If one is wrong,`,
    "report `blocked` with your question and its path as `acceptanceTest`.",
    "Run the project's tests (the `test` command in orchestrator.json) until they pass, commit,",
    `\`git push origin ${opts.branch}\`, then call the \`report\` tool with status \`complete\`, a summary`,
    "and the SHA of the commit you pushed. A deterministic tester checks out exactly that commit",
    "from the remote and runs the tests again: an unpushed commit fails.",
    "If you cannot go on without the person's answer, report `blocked` with one question; if you",
    "cannot do it at all, report `failed` with the reason.",
  ];
  const answer = [
    ...answersLines(opts.answers),
    ...(opts.answer ? answerLines(opts.answer, opts.branch) : []),
  ];
  if (!opts.lastTest) return [header, "", ...answer, ...steps].join("\n");
  const t = opts.lastTest;
  const counts = [
    t.counts ? `${t.counts.passed} passed, ${t.counts.failed} failed` : "no test counts",
    t.acceptanceCounts
      ? `acceptance ${t.acceptanceCounts.passed} passed, ${t.acceptanceCounts.failed} failed`
      : null,
  ]
    .filter(Boolean)
    .join("; ");
  return [
    header,
    "",
    ...answer,
    `The tester ran commit ${t.commit}: red (${t.reason ?? "failed"}; ${counts}).`,
    "Last lines of its output:",
    "```",
    t.outputTail,
    "```",
    "Fix the cause, then do as before:",
    ...steps,
  ].join("\n");
}

/** TASK.md: what the Developer is to do in this run. */
export function taskFile(opts: {
  mode: "build" | "change";
  text: string;
  runId: string;
  acceptanceDir: string;
  answers?: readonly EngineeringAnswer[];
}): string {
  const what = opts.mode === "build" ? "Build the project described here" : "Make this change";
  return [
    "# Task",
    "",
    `${what} (run ${opts.runId}). SPEC.md holds the features and acceptance criteria.`,
    "",
    opts.text,
    "",
    ...answersLines(opts.answers),
    `Done means: the acceptance tests in \`${opts.acceptanceDir}/\` (written from SPEC.md, not to be`,
    "edited) and the template's test command pass, and the commit is pushed and reported.",
    "",
  ].join("\n");
}

/**
 * AGENTS.md: how agents work in this repository, with the generated tool reference, then the
 * template's own conventions (its `conventions` file) when it has them.
 */
export function agentsFile(opts: {
  testCommand: string[];
  installCommand: string[];
  acceptance: { dir: string; test: string[] };
  toolReference: string;
  conventions: string | null;
}) {
  return [
    "# Working in this repository",
    "",
    `- Install: \`${opts.installCommand.join(" ")}\``,
    `- Test: \`${opts.testCommand.join(" ")}\``,
    `- Acceptance tests alone: \`${opts.acceptance.test.join(" ")}\`. The tester runs them from its own`,
    `  copy of \`${opts.acceptance.dir}/\`: a commit that changes that folder is red.`,
    "- Keep `orchestrator.json` (the template manifest) valid: the deploy reads it.",
    "- Never commit secrets; configuration comes from the environment variables the manifest lists.",
    "- Finish every task with the `report` tool (status, summary, pushed commit SHA).",
    "",
    opts.toolReference.trim(),
    "",
    ...(opts.conventions ? [opts.conventions.trim(), ""] : []),
  ].join("\n");
}
