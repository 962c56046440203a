import type { AgentResult } from "../../contracts/index.js";
import { listTemplates } from "../../templates/index.js";
import { type EngineeringDeps, terminateWorkersOf } from "./deps.js";
import { architectPrompt, TEMPLATE_LINE } from "./prompts.js";
import { cloneIntoWorkspace } from "./sandbox-git.js";
import type { EngineeringStateValue, EngineeringUpdate, Outcome } from "./state.js";

/** The outcome of an agent turn that did not end in a `complete` report, or null when it did. */
export function outcomeOfTurn(role: string, result: AgentResult): Outcome | null {
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
    const why = result.error?.message ?? `stopped: ${result.stopReason}`;
    return {
      status: "failed",
      code: `${role}_${result.error?.code ?? result.stopReason}`,
      message: `the ${role} agent did not finish: ${why}`,
      question: null,
      commit: null,
    };
  }
  return null;
}

/**
 * Architect (model): turns the brief (or change request) into SPEC.md and picks the template. It
 * may stop with a question, which ends the run `blocked` for the Product Owner to ask.
 */
export async function architect(
  deps: EngineeringDeps,
  state: EngineeringStateValue,
): Promise<EngineeringUpdate> {
  const { runId, projectId, input } = state;
  await deps.journal.stage(runId, "architect");
  await terminateWorkersOf(deps, runId, projectId, "architect");
  const project = await deps.store.projects.get(projectId);
  const config = await deps.store.agentConfigs.get("architect");
  const templates = (await listTemplates()).map((t) => ({
    name: t.name,
    description: t.manifest.description,
  }));
  const worker = await deps.workers.create({
    role: "architect",
    projectId,
    runId,
    backend: deps.agentBackend ?? config.backend,
  });
  try {
    if (input.mode === "change" && state.repo) {
      await cloneIntoWorkspace(deps.workers, worker.id, state.repo.cloneUrl, state.repo.defaultBranch);
    }
    const result = await deps.workers.send(
      worker.id,
      architectPrompt({ mode: input.mode, text: input.text, templates, fixedTemplate: project.template }),
    );
    const stop = outcomeOfTurn("architect", result);
    if (stop) return { outcome: stop, lastReport: result.report };
    const read = await deps.workers.exec(worker.id, ["cat", "SPEC.md"], { timeoutMs: 30_000 });
    const spec = read.exitCode === 0 ? read.stdout : "";
    if (!spec.trim()) {
      return failed("spec_missing", "the architect reported complete but wrote no SPEC.md", result);
    }
    const chosen = project.template ?? TEMPLATE_LINE.exec(spec)?.[1] ?? null;
    if (!chosen || !templates.some((t) => t.name === chosen)) {
      const names = templates.map((t) => t.name).join(", ");
      return failed(
        "template_not_chosen",
        `SPEC.md names no known template (a line "Template: <name>", one of ${names})`,
        result,
      );
    }
    return { spec, template: chosen, lastReport: result.report };
  } finally {
    await deps.workers.terminate(worker.id, "architect stage done").catch(() => undefined);
  }
}

function failed(code: string, message: string, result: AgentResult): EngineeringUpdate {
  return {
    outcome: { status: "failed", code, message, question: null, commit: null },
    lastReport: result.report,
  };
}
