import { apiRequest } from "../api";
import type { DashboardSummary } from "./contract";

/** The admin pages' calls, with the signed-in session (cookie, CSRF value on writes). */
export class AdminApi {
  constructor(
    readonly csrfToken: string,
    readonly baseUrl = "",
  ) {}

  summary(signal?: AbortSignal): Promise<DashboardSummary> {
    return apiRequest("GET", `${this.baseUrl}/api/admin/summary`, signal ? { signal } : {});
  }
}
