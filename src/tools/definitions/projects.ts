import { z } from "zod";
import { AppError, Id, PageQuery, Project, ProjectCreate, pageOf } from "../../contracts/index.js";
import { assertProject, projectScope } from "../permissions.js";
import { defineTool } from "../tool.js";

export const projectCreate = defineTool({
  name: "project.create",
  group: "projects",
  summary:
    "Create a project (name required; slug derived from it unless given). Returns the project with its UUID.",
  input: ProjectCreate,
  output: Project,
  async handler(input, ctx) {
    if (ctx.principal.kind === "worker") {
      throw new AppError("forbidden", "tool_forbidden", "a project-scoped token cannot create projects");
    }
    return ctx.store.projects.create(input);
  },
});

export const projectList = defineTool({
  name: "project.list",
  group: "projects",
  summary: "List projects, newest first.",
  input: PageQuery.extend({ ownerId: Id.optional() }),
  output: pageOf(Project),
  async handler(input, ctx) {
    const scope = projectScope(ctx.principal);
    if (scope !== undefined) {
      const project = await ctx.store.projects.get(scope);
      return {
        items: input.offset === 0 ? [project] : [],
        total: 1,
        limit: input.limit,
        offset: input.offset,
      };
    }
    return ctx.store.projects.list(input);
  },
});

export const projectGet = defineTool({
  name: "project.get",
  group: "projects",
  summary: "Show one project by its UUID.",
  input: z.object({ id: Id.describe("project UUID") }),
  output: Project,
  async handler(input, ctx) {
    assertProject(ctx.principal, input.id);
    return ctx.store.projects.get(input.id);
  },
});
