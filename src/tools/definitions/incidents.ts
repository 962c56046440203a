import { Incident, ProjectIncidentsInput, pageOf } from "../../contracts/index.js";
import { assertProject, listScope } from "../permissions.js";
import { defineTool } from "../tool.js";

export const projectIncidents = defineTool({
  name: "project.incidents",
  group: "projects",
  summary:
    "Incidents the health monitor opened when a live release stayed down, newest first: when, why, the tail of its output (secrets masked), restarts tried, the repair run and when it came back. One project's, or every project you may see.",
  input: ProjectIncidentsInput,
  output: pageOf(Incident),
  async handler(input, ctx) {
    if (input.projectId !== undefined) await assertProject(ctx, input.projectId);
    const scope = listScope(ctx.principal);
    const { projectId, status, limit, offset } = input;
    return ctx.store.incidents.list({
      limit,
      offset,
      ...(status ? { status } : {}),
      ...(projectId !== undefined ? { projectId } : {}),
      // A worker sees its own project's; a person those of their projects.
      ...(scope && "projectId" in scope ? { projectId: scope.projectId } : {}),
      ...(scope && "ownerId" in scope ? { ownerId: scope.ownerId } : {}),
    });
  },
});
