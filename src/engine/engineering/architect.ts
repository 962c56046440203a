import {
  type AgentConfig,
  type AgentResult,
  type RunOutcomeCode,
  TEMPLATE_MANIFEST_FILE,
  type TemplateManifest,
  type WorkerReport,
} from "../../contracts/index.js";
import { listTemplates, parseManifest } from "../../templates/index.js";
import { readAcceptanceFiles } from "./acceptance.js";
import type { EngineeringDeps } from "./deps.js";
import { onFreshWorker } from "./node-loss.js";
import { architectPrompt, TEMPLATE_LINE, type TemplateChoice } from "./prompts.js";
import { cloneIntoWorkspace } from "./sandbox-git.js";
import type { EngineeringStateValue, EngineeringUpdate, Outcome } from "./state.js";

/** The outcome of an agent turn that did not end in a `complete` report, or null when it did. */
export function outcomeOfTurn(
  role: "architect" | "developer",
  result: Pick<AgentResult, "ok" | "report" | "error" | "stopReason">,
): Outcome | null {
  const report = result.report;
  if (report?.status === "blocked") {
    return {
      status: "blocked",
      code: `${role}_question`,
      message: `the ${role} needs an answer: ${report.question ?? report.summary}`,
      question: report.question,
      commit: null,
    };
  }
  if (report?.status === "failed") {
    return {
      status: "failed",
      code: `${role}_failed`,
      message: report.summary,
      question: null,
      commit: null,
    };
  }
  if (!result.ok || report?.status !== "complete") {
    const why = result.error
      ? `${result.error.code}: ${result.error.message}`
      : `stopped: ${result.stopReason}`;
    return {
      status: "failed",
      code: `${role}_${result.stopReason}`,
      message: `the ${role} agent did not finish: ${why}`,
      question: null,
      commit: null,
    };
  }
  return null;
}

/** A template as the Architect's prompt lists it, from its manifest (the repository's for a change). */
export const choiceOf = (name: string, manifest: TemplateManifest): TemplateChoice => ({
  name,
  description: manifest.description,
  acceptance: manifest.acceptance ? { dir: manifest.acceptance.dir, guide: manifest.acceptance.guide } : null,
  env: manifest.env.map(({ name, kind, required, description }) => ({ name, kind, required, description })),
});

/**
 * Architect (model): turns the brief (or change request) into SPEC.md, picks the template and
 * writes the acceptance tests into the template's acceptance folder, before any code exists. It
 * may stop with a question, which ends the run `blocked` for the Product Owner to ask.
 */
export async function architect(
  deps: EngineeringDeps,
  state: EngineeringStateValue,
): Promise<EngineeringUpdate> {
  const { runId, projectId } = state;
  await deps.journal.stage(runId, "architect");
  const project = await deps.store.projects.get(projectId);
  const config = await deps.store.agentConfigs.get("architect");
  const builtins = new Map((await listTemplates()).map((t) => [t.name, t.manifest]));
  // A lost node loses the turn: a fresh worker writes the spec again.
  return onFreshWorker(
    deps,
    { runId, projectId, stage: "architect", role: "architect", backend: deps.agentBackend ?? config.backend },
    (worker) =>
      specify(deps, state, { workerId: worker.id, templateName: project.template, builtins, config }),
  );
}

/** The Architect's turn in its worker, and what it wrote: the spec, the template, the acceptance tests. */
async function specify(
  deps: EngineeringDeps,
  state: EngineeringStateValue,
  opts: {
    workerId: string;
    templateName: string | null;
    builtins: Map<string, TemplateManifest>;
    config: AgentConfig;
  },
): Promise<EngineeringUpdate> {
  const { input } = state;
  const { workerId, builtins } = opts;
  const exec = (argv: string[]) => deps.workers.exec(workerId, argv, { timeoutMs: 30_000 });
  // A change is specified against the repository's own manifest; a build against the template's.
  let repoManifest: TemplateManifest | null = null;
  if (input.mode === "change" && state.repo) {
    await cloneIntoWorkspace(deps.workers, workerId, state.repo.cloneUrl, state.repo.defaultBranch);
    const text = await exec(["cat", TEMPLATE_MANIFEST_FILE]);
    repoManifest = parseManifest(JSON.parse(text.stdout), `in ${state.repo.name}`);
  }
  const templates = [...builtins].map(([name, manifest]) =>
    choiceOf(name, name === opts.templateName && repoManifest ? repoManifest : manifest),
  );
  const result = await deps.workers.send(
    workerId,
    architectPrompt({
      mode: input.mode,
      text: input.text,
      templates,
      fixedTemplate: opts.templateName,
      answers: input.answers,
    }),
    // The agent's own limit, so a caller across the bus waits as long as the turn may take.
    { timeoutMs: opts.config.timeoutMs },
  );
  const stop = outcomeOfTurn("architect", result);
  if (stop) return { outcome: stop, lastReport: result.report };
  const read = await exec(["cat", "SPEC.md"]);
  const spec = read.exitCode === 0 ? read.stdout : "";
  if (!spec.trim()) {
    return failed("spec_missing", "the architect reported complete but wrote no SPEC.md", result.report);
  }
  const chosen = opts.templateName ?? TEMPLATE_LINE.exec(spec)?.[1] ?? null;
  const manifest = repoManifest ?? (chosen ? builtins.get(chosen) : undefined);
  if (!chosen || !manifest) {
    const names = [...builtins.keys()].join(", ");
    return failed(
      "template_not_chosen",
      `SPEC.md names no known template (a line "Template: <name>", one of ${names})`,
      result.report,
    );
  }
  if (!manifest.acceptance) {
    return failed(
      "acceptance_not_declared",
      `template ${chosen} declares no acceptance tests (the "acceptance" field of ${TEMPLATE_MANIFEST_FILE})`,
      result.report,
    );
  }
  const dir = manifest.acceptance.dir;
  const acceptanceFiles = await readAcceptanceFiles(
    deps.workers,
    workerId,
    dir,
    repoManifest ? "HEAD" : null,
  );
  if (!Object.values(acceptanceFiles).some((content) => content !== null)) {
    return failed(
      "acceptance_missing",
      `the architect reported complete but wrote no acceptance tests in ${dir}/`,
      result.report,
    );
  }
  return { spec, template: chosen, acceptanceFiles, lastReport: result.report };
}

function failed(code: RunOutcomeCode, message: string, report: WorkerReport | null): EngineeringUpdate {
  return {
    outcome: { status: "failed", code, message, question: null, commit: null },
    lastReport: report,
  };
}
