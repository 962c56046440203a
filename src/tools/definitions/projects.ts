import { z } from "zod";
import {
  AppError,
  Id,
  PageQuery,
  Project,
  ProjectCreate,
  ProjectUpdate,
  pageOf,
} from "../../contracts/index.js";
import { assertAdmin, assertProject, listScope } from "../permissions.js";
import { defineTool } from "../tool.js";

export const projectCreate = defineTool({
  name: "project.create",
  group: "projects",
  summary:
    "Create a project (name required; slug derived from it unless given). Returns the project with its UUID.",
  input: ProjectCreate,
  output: Project,
  async handler(input, ctx) {
    const { principal } = ctx;
    if (principal.kind === "worker") {
      throw new AppError("forbidden", "tool_forbidden", "a project-scoped token cannot create projects");
    }
    if (principal.kind === "user") {
      // A person's project is theirs: they cannot create one in someone else's name.
      if (input.ownerId !== null && input.ownerId !== principal.userId) {
        throw new AppError("forbidden", "tool_forbidden", "a user creates projects they own", {
          details: [{ path: "ownerId", message: "leave it out, or give your own user id" }],
        });
      }
      return ctx.store.projects.create({ ...input, ownerId: principal.userId });
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
    const scope = listScope(ctx.principal);
    if (scope && "projectId" in scope) {
      const project = await ctx.store.projects.get(scope.projectId);
      return {
        items: input.offset === 0 ? [project] : [],
        total: 1,
        limit: input.limit,
        offset: input.offset,
      };
    }
    if (scope && "ownerId" in scope) {
      if (input.ownerId !== undefined && input.ownerId !== scope.ownerId) {
        throw new AppError("forbidden", "tool_forbidden", "a user lists only the projects they own", {
          details: [{ path: "ownerId", message: "leave it out, or give your own user id" }],
        });
      }
      return ctx.store.projects.list({ ...input, ownerId: scope.ownerId });
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
    await assertProject(ctx, input.id);
    return ctx.store.projects.get(input.id);
  },
});

export const projectUpdate = defineTool({
  name: "project.update",
  group: "admin",
  summary:
    "Change a project's name, description, template, repository URL, summary, run budget (USD) or auto-repair (the health monitor starts an engineering run when its live release stays down). Admin only.",
  input: ProjectUpdate.extend({ id: Id.describe("project UUID") }),
  output: Project,
  async handler({ id, ...patch }, ctx) {
    assertAdmin(ctx.principal, "project.update");
    return ctx.store.projects.update(id, patch);
  },
});
