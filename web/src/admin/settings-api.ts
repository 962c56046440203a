import { apiRequest } from "../api";
import type { AdminApi } from "./admin-api";
import type {
  AgentConfig,
  AgentConfigFields,
  AgentConfigVersion,
  AgentConfigVersionSummary,
  AgentNode,
  RuntimeSettingKey,
  RuntimeSettingView,
} from "./settings-contract";

const base = (api: AdminApi, node: AgentNode) =>
  `${api.baseUrl}/api/agent-configs/${encodeURIComponent(node)}`;

/** Every node's config as it stands. */
export async function listConfigs(api: AdminApi, signal?: AbortSignal): Promise<AgentConfig[]> {
  const page = await apiRequest<{ items: AgentConfig[] }>("GET", `${api.baseUrl}/api/agent-configs`, {
    signal,
  });
  return page.items;
}

export function getConfig(api: AdminApi, node: AgentNode, signal?: AbortSignal): Promise<AgentConfig> {
  return apiRequest("GET", base(api, node), { signal });
}

/** Saves the changed fields as the node's next version. */
export function saveConfig(
  api: AdminApi,
  node: AgentNode,
  patch: Partial<AgentConfigFields>,
): Promise<AgentConfig> {
  return apiRequest("PATCH", base(api, node), { body: patch, csrfToken: api.csrfToken });
}

export async function listVersions(
  api: AdminApi,
  node: AgentNode,
  signal?: AbortSignal,
): Promise<AgentConfigVersionSummary[]> {
  return (
    await apiRequest<{ items: AgentConfigVersionSummary[] }>("GET", `${base(api, node)}/versions`, { signal })
  ).items;
}

export function getVersion(
  api: AdminApi,
  node: AgentNode,
  version: number,
  signal?: AbortSignal,
): Promise<AgentConfigVersion> {
  return apiRequest("GET", `${base(api, node)}/versions/${version}`, { signal });
}

/** Saves an old version's fields as the node's next version. */
export function restoreVersion(api: AdminApi, node: AgentNode, version: number): Promise<AgentConfig> {
  return apiRequest("POST", `${base(api, node)}/restore`, { body: { version }, csrfToken: api.csrfToken });
}

export async function getRuntimeSettings(api: AdminApi, signal?: AbortSignal): Promise<RuntimeSettingView[]> {
  return (await apiRequest<{ items: RuntimeSettingView[] }>("GET", `${api.baseUrl}/api/settings`, { signal }))
    .items;
}

/** Sets run-time settings; `null` returns one to the environment's value. */
export async function saveRuntimeSettings(
  api: AdminApi,
  patch: Partial<Record<RuntimeSettingKey, number | null>>,
): Promise<RuntimeSettingView[]> {
  return (
    await apiRequest<{ items: RuntimeSettingView[] }>("PATCH", `${api.baseUrl}/api/settings`, {
      body: patch,
      csrfToken: api.csrfToken,
    })
  ).items;
}

/**
 * The API's validation messages by field: a REST body's `body.maxTurns` and a tool's `maxTurns`
 * both land on `maxTurns`, so each message can be shown beside the field it names.
 */
export function fieldErrors(details: { path?: string; message?: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of details) {
    const field = (d.path ?? "").replace(/^body[./]/, "").split(/[./]/)[0] ?? "";
    if (field && !out[field]) out[field] = d.message ?? "invalid";
  }
  return out;
}
