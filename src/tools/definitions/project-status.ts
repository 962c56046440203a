import { z } from "zod";
import {
  type ActiveRun,
  DeployRunInput,
  DeployRunResult,
  EngineeringRunInput,
  EngineeringRunResult,
  Id,
  type LastDeploy,
  PROJECT_STATUS_LIMIT,
  type Project,
  ProjectSecretsList,
  ProjectStatusInput,
  ProjectStatusList,
  type ProjectStatusReport,
  RECENT_FAILURES,
  type Run,
  type RunFailure,
  UPTIME_WINDOW_MS,
  uptimeOf,
} from "../../contracts/index.js";
import type { Store } from "../../store/index.js";
import { assertProject, listScope } from "../permissions.js";
import { defineTool, type ToolContext } from "../tool.js";
import { healthOf } from "./project-health.js";

/** Deploy runs read per project: enough to find the latest deploy and a rollback after the live one. */
const DEPLOY_RUNS_READ = 20;
/** Engineering runs searched for the continuation of a blocked one. */
const ENGINEERING_RUNS_READ = 20;

export const projectStatus = defineTool({
  name: "project.status",
  group: "projects",
  summary:
    "How a project is doing (or every project you may see, newest 20): health of its live release from recorded checks, uptime over the last 24 hours, last deploy, open incidents, the run under way and the last failed or blocked runs with their questions or missing secret names.",
  input: ProjectStatusInput,
  output: ProjectStatusList,
  async handler(input, ctx) {
    const now = new Date();
    const { projects, total } = await visibleProjects(ctx, input.projectId);
    const items: ProjectStatusReport[] = [];
    for (const project of projects) items.push(await reportOf(ctx.store, project, now));
    return { items, total, asOf: now.toISOString() };
  },
});

export const projectSecrets = defineTool({
  name: "project.secrets",
  group: "projects",
  summary:
    "A project's secrets by name: kind and whether each has a value (never values), and the required names its latest deploy found without one.",
  input: z.object({ projectId: Id.describe("project UUID") }),
  output: ProjectSecretsList,
  async handler(input, ctx) {
    await assertProject(ctx, input.projectId);
    await ctx.store.projects.get(input.projectId);
    // Read from the store's metadata: no vault needed, and nothing but names and flags leaves it.
    const metas = await ctx.store.secrets.listMeta(input.projectId);
    const secrets = metas.map((m) => ({
      key: m.key,
      kind: m.kind,
      isFilled: m.isFilled,
      updatedAt: m.updatedAt,
    }));
    const filled = new Set(secrets.filter((s) => s.isFilled).map((s) => s.key));
    const blockedOn = await deployBlockedOn(ctx.store, input.projectId);
    return { projectId: input.projectId, secrets, missing: blockedOn.filter((key) => !filled.has(key)) };
  },
});

/** The secret names the project's latest deploy found without a value, when it ended blocked on them. */
export async function deployBlockedOn(store: Store, projectId: string): Promise<string[]> {
  const runs = await store.runs.list({ projectId, kind: "deploy", limit: DEPLOY_RUNS_READ, offset: 0 });
  const last = runs.items.find((r) => actionOf(r) !== "teardown");
  return last?.status === "blocked" ? (DeployRunResult.safeParse(last.result).data?.missing ?? []) : [];
}

/** The projects the caller asked about and may see: one by id, else the newest of theirs. */
async function visibleProjects(
  ctx: ToolContext,
  projectId: string | undefined,
): Promise<{ projects: Project[]; total: number }> {
  if (projectId !== undefined) {
    await assertProject(ctx, projectId);
    return { projects: [await ctx.store.projects.get(projectId)], total: 1 };
  }
  const scope = listScope(ctx.principal);
  if (scope && "projectId" in scope) {
    return { projects: [await ctx.store.projects.get(scope.projectId)], total: 1 };
  }
  const page = await ctx.store.projects.list({
    limit: PROJECT_STATUS_LIMIT,
    offset: 0,
    ...(scope ? { ownerId: scope.ownerId } : {}),
  });
  return { projects: page.items, total: page.total };
}

async function reportOf(store: Store, project: Project, now: Date): Promise<ProjectStatusReport> {
  const projectId = project.id;
  const [serving] = (await store.deployments.list({ projectId, status: "healthy", limit: 1, offset: 0 }))
    .items;
  const [latest] = (await store.deployments.list({ projectId, limit: 1, offset: 0 })).items;
  const deployRuns = (
    await store.runs.list({ projectId, kind: "deploy", limit: DEPLOY_RUNS_READ, offset: 0 })
  ).items.filter((r) => actionOf(r) !== "teardown");
  const server = serving?.serverId ? await store.servers.get(serving.serverId).catch(() => null) : null;
  const owner = serving ? await store.releaseOwners.get(projectId) : null;
  const ownerInstance = owner?.owner ? await store.instances.get(owner.owner.id) : null;
  const openIncidents = await openIncidentsOf(store, projectId);
  const { health, liveSince } = healthOf({
    serving: serving ?? null,
    latest: latest ?? null,
    deployRuns,
    server,
    owner,
    ownerInstance,
    incident: openIncidents[0] ?? null,
  });
  const uptimeSeconds = liveSince
    ? Math.max(0, Math.floor((now.getTime() - Date.parse(liveSince)) / 1000))
    : null;
  return {
    id: project.id,
    slug: project.slug,
    name: project.name,
    status: project.status,
    health,
    lastDeploy: deployRuns[0] ? lastDeployOf(deployRuns[0]) : null,
    liveSince,
    uptimeSeconds,
    activeRun: await activeRunOf(store, projectId),
    recentFailures: await failuresOf(store, projectId),
    uptime24h: uptimeOf(
      await store.healthTransitions.window(projectId, UPTIME_WINDOW_MS),
      now,
      UPTIME_WINDOW_MS,
    ),
    openIncidents,
  };
}

/** The project's open incident, if any, without its log excerpt (`project.incidents` has it). */
async function openIncidentsOf(
  store: Store,
  projectId: string,
): Promise<ProjectStatusReport["openIncidents"]> {
  const open = await store.incidents.openFor(projectId);
  if (!open) return [];
  const { logsExcerpt: _, ...rest } = open;
  return [rest];
}

/** The action of a deploy run, from its input (`deploy` when unreadable: it was queued as one). */
function actionOf(run: Run): "deploy" | "rollback" | "teardown" {
  return DeployRunInput.safeParse(run.input).data?.action ?? "deploy";
}

function lastDeployOf(run: Run): LastDeploy {
  const result = DeployRunResult.safeParse(run.result).data;
  const input = DeployRunInput.safeParse(run.input).data;
  return {
    runId: run.id,
    action: input?.action === "rollback" ? "rollback" : "deploy",
    status: run.status,
    finishedAt: run.finishedAt,
    url: result?.url ?? null,
    botUsername: result?.botUsername ?? null,
    commit: result?.commit ?? input?.commit ?? null,
  };
}

/** The newest run of the project under way, of any kind. */
async function activeRunOf(store: Store, projectId: string): Promise<ActiveRun | null> {
  const active: Run[] = [];
  for (const status of ["queued", "running", "awaiting_approval"] as const) {
    active.push(...(await store.runs.list({ projectId, status, limit: 1, offset: 0 })).items);
  }
  const newest = active.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))[0];
  if (!newest) return null;
  return {
    runId: newest.id,
    kind: newest.kind,
    status: newest.status as ActiveRun["status"],
    stage: newest.stage,
    iteration: newest.iteration,
    createdAt: newest.createdAt,
    startedAt: newest.startedAt,
  };
}

/** The last failed or blocked runs, newest first, with the question or the missing secret names. */
async function failuresOf(store: Store, projectId: string): Promise<RunFailure[]> {
  const ended: Run[] = [];
  for (const status of ["failed", "blocked"] as const) {
    ended.push(...(await store.runs.list({ projectId, status, limit: RECENT_FAILURES, offset: 0 })).items);
  }
  const recent = ended
    .sort((a, b) => Date.parse(b.finishedAt ?? b.createdAt) - Date.parse(a.finishedAt ?? a.createdAt))
    .slice(0, RECENT_FAILURES);
  const continuations = new Map<string, string>();
  if (recent.some((r) => r.kind === "engineering" && r.status === "blocked")) {
    const page = await store.runs.list({
      projectId,
      kind: "engineering",
      limit: ENGINEERING_RUNS_READ,
      offset: 0,
    });
    for (const run of page.items) {
      const continues = EngineeringRunInput.safeParse(run.input).data?.continues;
      if (continues) continuations.set(continues, run.id);
    }
  }
  return recent.map((run) => {
    const isBlocked = run.status === "blocked";
    const question =
      isBlocked && run.kind === "engineering"
        ? (EngineeringRunResult.safeParse(run.result).data?.question ?? null)
        : null;
    const missingSecrets =
      isBlocked && run.kind === "deploy" ? (DeployRunResult.safeParse(run.result).data?.missing ?? []) : [];
    return {
      runId: run.id,
      kind: run.kind,
      status: run.status as RunFailure["status"],
      at: run.finishedAt,
      code: run.error?.code ?? null,
      message: run.error?.message ?? null,
      question,
      missingSecrets,
      continuedBy: continuations.get(run.id) ?? null,
    };
  });
}
