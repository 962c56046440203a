import { apiRequest } from "../api";
import type { AdminApi } from "./admin-api";
import type {
  Page,
  PoolBot,
  PortAllocation,
  ProjectRef,
  Server,
  ServerCheck,
  ServerRegistration,
  User,
  UserUpdate,
  Worker,
  WorkerStatus,
  WorkerUsage,
} from "./ops-contract";

/**
 * The operations pages' calls (workers, users, servers and ports, the bot pool), with the admin's
 * session: the cookie goes by itself, writes echo its CSRF value.
 */

const q = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
};
const id = (value: string) => encodeURIComponent(value);

function read<T>(api: AdminApi, path: string, signal?: AbortSignal): Promise<T> {
  return apiRequest("GET", `${api.baseUrl}${path}`, signal ? { signal } : {});
}
function write<T>(api: AdminApi, method: string, path: string, body?: unknown): Promise<T> {
  return apiRequest(method, `${api.baseUrl}${path}`, {
    csrfToken: api.csrfToken,
    ...(body !== undefined ? { body } : {}),
  });
}
/** A tool through the tool door (`POST /api/tools/:name`), with the same checks as any other door. */
async function tool<T>(api: AdminApi, name: string, input: unknown): Promise<T> {
  return (await write<{ data: T }>(api, "POST", `/api/tools/${id(name)}`, input)).data;
}

export const opsApi = {
  workers: (
    api: AdminApi,
    filter: { state?: string; role?: string; offset?: number; limit?: number },
    signal?: AbortSignal,
  ) => read<Page<Worker>>(api, `/api/workers${q(filter)}`, signal),
  worker: (api: AdminApi, workerId: string, signal?: AbortSignal) =>
    read<WorkerStatus>(api, `/api/workers/${id(workerId)}`, signal),
  workerUsage: (api: AdminApi, workerId: string, signal?: AbortSignal) =>
    read<WorkerUsage>(api, `/api/workers/${id(workerId)}/usage`, signal),
  async workerLogs(api: AdminApi, workerId: string, lines: number, signal?: AbortSignal): Promise<string[]> {
    return (await read<{ lines: string[] }>(api, `/api/workers/${id(workerId)}/logs${q({ lines })}`, signal))
      .lines;
  },
  pauseWorker: (api: AdminApi, workerId: string) =>
    write<Worker>(api, "POST", `/api/workers/${id(workerId)}/pause`),
  resumeWorker: (api: AdminApi, workerId: string) =>
    write<Worker>(api, "POST", `/api/workers/${id(workerId)}/resume`),
  terminateWorker: (api: AdminApi, workerId: string) =>
    write<Worker>(api, "DELETE", `/api/workers/${id(workerId)}`),

  users: (api: AdminApi, page: { offset?: number; limit?: number }, signal?: AbortSignal) =>
    read<Page<User>>(api, `/api/users${q(page)}`, signal),
  updateUser: (api: AdminApi, userId: string, change: UserUpdate) =>
    write<User>(api, "PATCH", `/api/users/${id(userId)}`, change),

  servers: (api: AdminApi, signal?: AbortSignal) =>
    read<Page<Server>>(api, `/api/servers${q({ limit: 200 })}`, signal),
  ports: (api: AdminApi, serverId: string, signal?: AbortSignal) =>
    read<Page<PortAllocation>>(api, `/api/ports${q({ serverId, limit: 200 })}`, signal),
  checkServer: (api: AdminApi, serverId: string) =>
    write<ServerCheck>(api, "POST", `/api/servers/${id(serverId)}/check`),
  registerServer: (api: AdminApi, registration: ServerRegistration) =>
    write<ServerCheck>(api, "POST", "/api/servers", registration),

  pool: (api: AdminApi) => tool<PoolBot[]>(api, "pool.list", {}),
  addToPool: (api: AdminApi, token: string) => tool<PoolBot>(api, "pool.add", { token }),
  removeFromPool: (api: AdminApi, botId: string) => tool<PoolBot>(api, "pool.remove", { id: botId }),

  project: (api: AdminApi, projectId: string, signal?: AbortSignal) =>
    read<ProjectRef>(api, `/api/projects/${id(projectId)}`, signal),
};
