import type { Bus } from "../../bus/index.js";
import {
  AppError,
  type EngineeringRunInput,
  type EngineeringStartInput,
  type Run,
} from "../../contracts/index.js";
import type { RunJournal } from "../../events/index.js";
import type { Store } from "../../store/index.js";
import { triggerRun } from "../run-executor.js";

/**
 * Queues an engineering run: a brief builds a project that has no repository yet; a change request
 * changes one that has. A project has at most one engineering run queued or running at a time.
 */
export async function requestEngineering(
  deps: { store: Store; bus: Bus; journal: RunJournal },
  input: EngineeringStartInput,
): Promise<Run> {
  const { store, bus, journal } = deps;
  const project = await store.projects.get(input.projectId);
  const mode: EngineeringRunInput["mode"] = input.brief !== undefined ? "build" : "change";
  if (mode === "build" && project.repositoryUrl) {
    throw new AppError("conflict", "already_built", `project ${project.slug} already has a repository`, {
      details: [{ path: "brief", message: "send a changeRequest to change an existing project" }],
    });
  }
  if (mode === "change" && !project.repositoryUrl) {
    throw new AppError("conflict", "not_built_yet", `project ${project.slug} has no repository yet`, {
      details: [{ path: "changeRequest", message: "send a brief first" }],
    });
  }
  for (const status of ["queued", "running", "awaiting_approval"] as const) {
    const active = await store.runs.list({
      projectId: project.id,
      kind: "engineering",
      status,
      limit: 1,
      offset: 0,
    });
    const current = active.items[0];
    if (current) {
      throw new AppError(
        "conflict",
        "run_in_progress",
        `project ${project.slug} has engineering run ${current.id} ${status}`,
        {
          details: [{ path: "projectId", message: "wait for the current run to finish" }],
        },
      );
    }
  }
  const runInput: EngineeringRunInput = { mode, text: (input.brief ?? input.changeRequest ?? "").trim() };
  const run = await store.runs.create({ projectId: project.id, kind: "engineering", input: runInput });
  await journal.append({ runId: run.id, type: "run.created", data: { kind: "engineering", mode } });
  await triggerRun(bus, "engineering", run.id);
  return run;
}
