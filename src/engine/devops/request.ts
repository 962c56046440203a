import type { Bus } from "../../bus/index.js";
import { AppError, DeployRunInput, DeployRunResult, type Run } from "../../contracts/index.js";
import type { RunJournal } from "../../events/index.js";
import { currentTraceId } from "../../observability/index.js";
import type { Store } from "../../store/index.js";
import { triggerRun } from "../run-executor.js";

/** A project's newest deploy runs: where a deploy started by an engineering run is looked for. */
function recentDeploys(store: Store, projectId: string): Promise<Run[]> {
  return store.runs.list({ projectId, kind: "deploy", limit: 100, offset: 0 }).then((page) => page.items);
}

function startedBy(deploys: Run[], sourceRunId: string): Run | null {
  return deploys.find((r) => (r.input as { sourceRunId?: string }).sourceRunId === sourceRunId) ?? null;
}

/** The deploy run an engineering run started on green (at most one per run), or null. */
export async function deployRunOf(
  store: Store,
  engineeringRun: Pick<Run, "id" | "projectId">,
): Promise<Run | null> {
  return startedBy(await recentDeploys(store, engineeringRun.projectId), engineeringRun.id);
}

/**
 * Queues a deploy run. A deploy triggered by an engineering run is queued at most once for that
 * run (the engine may finish a run twice after a crash); a project has one deploy queued or
 * running at a time.
 */
export async function requestDeploy(
  deps: { store: Store; bus: Bus; journal: RunJournal },
  input: DeployRunInput,
): Promise<Run> {
  const { store, bus, journal } = deps;
  const data = DeployRunInput.parse(input);
  const project = await store.projects.get(data.projectId);
  const recent = await recentDeploys(store, project.id);
  if (data.sourceRunId) {
    const same = startedBy(recent, data.sourceRunId);
    if (same) return same;
  }
  if (data.resumes) {
    const same = recent.find((r) => (r.input as { resumes?: string }).resumes === data.resumes);
    if (same) return same;
  }
  const active = recent.find((r) => r.status === "queued" || r.status === "running");
  if (active) {
    throw new AppError(
      "conflict",
      "run_in_progress",
      `project ${project.slug} has deploy run ${active.id} ${active.status}`,
      {
        details: [{ path: "projectId", message: "wait for the current deploy to finish" }],
      },
    );
  }
  let run: Run;
  try {
    // Made inside the span that asks for it (a tool, a green engineering run): the run keeps its trace.
    run = await store.runs.create({
      projectId: project.id,
      kind: "deploy",
      input: data,
      traceId: currentTraceId(),
    });
  } catch (error) {
    // Another engine (or a replayed event) queued the deploy of this source run first: that one stands.
    const clash = error instanceof AppError && error.details.some((d) => d.path === "sourceRunId");
    const same =
      clash && data.sourceRunId
        ? await deployRunOf(store, { id: data.sourceRunId, projectId: project.id })
        : null;
    if (same) return same;
    throw error;
  }
  await journal.append({
    runId: run.id,
    type: "run.created",
    data: { kind: "deploy", action: data.action },
  });
  await triggerRun(bus, "deploy", run.id);
  return run;
}

/** The commit of the project's latest succeeded engineering run (what `deploy.start` deploys by default). */
export async function latestGreenCommit(store: Store, projectId: string): Promise<string | null> {
  const runs = await store.runs.list({
    projectId,
    kind: "engineering",
    status: "succeeded",
    limit: 1,
    offset: 0,
  });
  const commit = (runs.items[0]?.result as { commit?: unknown } | null)?.commit;
  return typeof commit === "string" ? commit : null;
}

/**
 * Takes up the project's latest deploy again when it ended `blocked` on missing secrets and every
 * one of them has a value now: a new deploy of the same commit that `resumes` it (told to the
 * same conversation). Null when nothing waits, something is still missing, or a deploy is under way.
 */
export async function resumeBlockedDeploy(
  deps: { store: Store; bus: Bus; journal: RunJournal },
  projectId: string,
): Promise<Run | null> {
  const { store } = deps;
  const latest = (await recentDeploys(store, projectId)).find(
    (r) => DeployRunInput.safeParse(r.input).data?.action === "deploy",
  );
  if (latest?.status !== "blocked" || latest.error?.code !== "missing_secrets") return null;
  const blocked = DeployRunResult.safeParse(latest.result);
  const input = DeployRunInput.safeParse(latest.input);
  if (!blocked.success || !input.success) return null;
  const filled = new Set(
    (await store.secrets.listMeta(projectId)).filter((m) => m.isFilled).map((m) => m.key),
  );
  if (blocked.data.missing.some((key) => !filled.has(key))) return null;
  try {
    return await requestDeploy(deps, {
      projectId,
      action: "deploy",
      commit: input.data.commit ?? blocked.data.commit,
      resumes: latest.id,
    });
  } catch (error) {
    if (error instanceof AppError && error.code === "run_in_progress") return null;
    throw error;
  }
}
