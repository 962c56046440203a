import { apiRequest } from "../api";
import type { AdminApi } from "./admin-api";
import type {
  AdminDeployment,
  AdminProject,
  AdminRun,
  AdminRunEvent,
  AdminWorker,
  Page,
  ProjectSecrets,
  RunSpend,
} from "./projects-contract";

/** Query text of the non-empty filters, in a stable order. */
function queryOf(filters: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

const get = <T>(api: AdminApi, path: string, signal?: AbortSignal) =>
  apiRequest<T>("GET", `${api.baseUrl}${path}`, signal ? { signal } : {});

/** Calls a tool through the tool door as the signed-in admin; answers the tool's output. */
async function tool<T>(api: AdminApi, name: string, input: unknown, signal?: AbortSignal): Promise<T> {
  const body = await apiRequest<{ data: T }>("POST", `${api.baseUrl}/api/tools/${name}`, {
    body: input,
    csrfToken: api.csrfToken,
    ...(signal ? { signal } : {}),
  });
  return body.data;
}

export interface ProjectFilters {
  q?: string;
  status?: string;
}

export const listProjects = (api: AdminApi, filters: ProjectFilters, signal?: AbortSignal) =>
  get<Page<AdminProject>>(api, `/api/projects${queryOf({ ...filters, limit: 200 })}`, signal);

export const getProject = (api: AdminApi, id: string, signal?: AbortSignal) =>
  get<AdminProject>(api, `/api/projects/${encodeURIComponent(id)}`, signal);

export const projectDeployments = (api: AdminApi, id: string, signal?: AbortSignal) =>
  get<Page<AdminDeployment>>(api, `/api/projects/${encodeURIComponent(id)}/deployments?limit=20`, signal);

/** Secret names and whether each is filled (never values), through `project.secrets`. */
export const projectSecrets = (api: AdminApi, projectId: string, signal?: AbortSignal) =>
  tool<ProjectSecrets>(api, "project.secrets", { projectId }, signal);

export interface RunFilters {
  kind?: string;
  status?: string;
  projectId?: string;
}

export const listRuns = (api: AdminApi, filters: RunFilters, limit: number, signal?: AbortSignal) =>
  get<Page<AdminRun>>(api, `/api/runs${queryOf({ ...filters, limit })}`, signal);

export const getRun = (api: AdminApi, id: string, signal?: AbortSignal) =>
  get<AdminRun>(api, `/api/runs/${encodeURIComponent(id)}`, signal);

/** Every stored event of a run after `afterSeq`, read page by page. */
export async function runEvents(
  api: AdminApi,
  runId: string,
  afterSeq = 0,
  signal?: AbortSignal,
): Promise<AdminRunEvent[]> {
  const events: AdminRunEvent[] = [];
  let after = afterSeq;
  for (;;) {
    const path = `/api/runs/${encodeURIComponent(runId)}/events?afterSeq=${after}&limit=1000`;
    const page = await get<{ items: AdminRunEvent[] }>(api, path, signal);
    events.push(...page.items);
    const last = page.items.at(-1);
    if (page.items.length < 1000 || !last) return events;
    after = last.seq;
  }
}

/** Where a run's events stream (server-sent events; the session cookie is enough). */
export const runEventStreamUrl = (api: AdminApi, runId: string, afterSeq: number) =>
  `${api.baseUrl}/api/runs/${encodeURIComponent(runId)}/events/stream?afterSeq=${afterSeq}`;

/** The workers a run started, oldest first. */
export const runWorkers = (api: AdminApi, runId: string, signal?: AbortSignal) =>
  get<{ items: AdminWorker[] }>(api, `/api/runs/${encodeURIComponent(runId)}/workers`, signal);

export const runSpend = (api: AdminApi, runId: string, signal?: AbortSignal) =>
  tool<RunSpend>(api, "run.spend", { runId }, signal);

export const cancelRun = (api: AdminApi, runId: string, reason: string) =>
  tool<AdminRun>(api, "run.cancel", { runId, reason });

/** Deploys the latest green commit again. */
export const redeploy = (api: AdminApi, projectId: string) =>
  tool<AdminRun>(api, "deploy.start", { projectId });

export const rollback = (api: AdminApi, projectId: string) =>
  tool<AdminRun>(api, "deploy.rollback", { projectId });

export const teardown = (api: AdminApi, projectId: string, data: "keep" | "delete") =>
  tool<AdminRun>(api, "project.teardown", { projectId, data });

/** A change request for a built project, or the first brief of one never built. */
export const startEngineering = (
  api: AdminApi,
  projectId: string,
  text: string,
  mode: "brief" | "changeRequest",
) => tool<AdminRun>(api, "engineering.start", { projectId, [mode]: text });
