import { apiRequest } from "../api";
import type { AdminApi } from "./admin-api";
import type { LogFilters, LogList } from "./logs-contract";
import type { SpendReport } from "./spend-contract";

/** The query string of the given values, leaving out empty ones (`?a=1&b=2`, or ""). */
export function queryOf(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value) params.set(key, value);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Token usage of a period of UTC days (both ends included; the API's default when not given). */
export function spendReport(
  api: AdminApi,
  period: { from?: string; to?: string },
  signal?: AbortSignal,
): Promise<SpendReport> {
  return apiRequest("GET", `${api.baseUrl}/api/admin/spend${queryOf(period)}`, signal ? { signal } : {});
}

/** The latest log entries matching the filters, oldest first. */
export function recentLogs(api: AdminApi, filters: LogFilters, signal?: AbortSignal): Promise<LogList> {
  const query = queryOf({ ...filters, limit: "500" });
  return apiRequest("GET", `${api.baseUrl}/api/admin/logs${query}`, signal ? { signal } : {});
}

/** The address of the live log stream with the same filters (read with an `EventSource`). */
export function logStreamUrl(api: AdminApi, filters: LogFilters): string {
  return `${api.baseUrl}/api/admin/logs/stream${queryOf({ ...filters })}`;
}
