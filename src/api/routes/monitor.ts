import { z } from "zod";
import {
  Id,
  Incident,
  IncidentStatus,
  PageQuery,
  type ProjectStatusList,
  ProjectStatusReport,
  pageOf,
} from "../../contracts/index.js";
import type { Api, ApiDeps } from "../context.js";
import { invokeFor } from "./tools.js";

const ById = z.object({ id: Id });
const IncidentQuery = PageQuery.extend({ status: IncidentStatus.optional() });

/**
 * How a project's live release is doing (US4), for its owner as for an admin: the `project.status`
 * report (health, uptime over 24 h, last deploy, open incidents) and the health monitor's incidents.
 * Any valid token reaches them; the tools answer another person's project `not_found`.
 */
export function registerMonitorRoutes(app: Api, deps: ApiDeps): void {
  const token = { access: "token" as const };
  app.get(
    "/api/projects/:id/health",
    { config: token, schema: { tags: ["projects"], params: ById, response: { 200: ProjectStatusReport } } },
    async (req) => {
      const report = await invokeFor<ProjectStatusList>(deps, req, "project.status", {
        projectId: req.params.id,
      });
      return report.items[0];
    },
  );
  app.get(
    "/api/projects/:id/incidents",
    {
      config: token,
      schema: {
        tags: ["projects"],
        params: ById,
        querystring: IncidentQuery,
        response: { 200: pageOf(Incident) },
      },
    },
    (req) => invokeFor(deps, req, "project.incidents", { ...req.query, projectId: req.params.id }),
  );
}
