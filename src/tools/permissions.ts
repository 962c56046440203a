import { type AgentRole, AppError, type Principal, type ToolGroup } from "../contracts/index.js";
import type { Store } from "../store/index.js";
import type { AnyToolDef } from "./tool.js";

/**
 * Which tools each agent role may call. `*` means all. A worker token is further limited to the
 * tool groups it was issued with and to its own project (checked by handlers via `assertProject`).
 */
export const ROLE_PROFILES: Record<AgentRole, readonly string[]> = {
  po: ["*"],
  architect: ["project.get", "run.get", "report", "progress"],
  developer: ["project.get", "run.get", "report", "progress"],
  tester: ["project.get", "run.get"],
  devops: ["project.get", "run.get", "run.list", "report", "progress"],
};

/**
 * The tool groups a user token reaches: their projects and what runs on them. Never servers,
 * secrets, tokens, users or instances (the `admin`, `servers`, `secrets` and `workers` groups).
 */
export const USER_GROUPS: readonly ToolGroup[] = ["projects", "engineering", "deploy", "runs"];

/**
 * The tools a user may call within `USER_GROUPS`, and so what a Product Owner acting for them can
 * do: create a project (owned by them); follow, start, answer, deploy, roll back and tear down work
 * on the projects they own; see its secrets by name and fill flag (`project.secrets`, never the
 * `secrets` group, which holds values' lengths and writes) and their audit trail (`secret.audit`).
 * Every handler checks the ownership.
 */
export const USER_PROFILE: readonly string[] = [
  "project.create",
  "project.list",
  "project.get",
  "project.status",
  "project.incidents",
  "project.secrets",
  "secret.audit",
  "secret.request",
  "pool.take",
  "engineering.start",
  "engineering.status",
  "engineering.answer",
  "deploy.status",
  "deploy.start",
  "deploy.rollback",
  "project.teardown",
  "run.get",
  "run.list",
];

/** True when an agent of `role` may call `toolName` (its token's groups aside). */
export function roleAllows(role: AgentRole, toolName: string): boolean {
  const profile = ROLE_PROFILES[role];
  return profile.includes("*") || profile.includes(toolName);
}

/** True when `principal` may call `tool` at all (project scope is checked separately). */
export function mayCall(principal: Principal, tool: AnyToolDef): boolean {
  if (principal.kind === "admin") return true;
  if (principal.kind === "user") return USER_GROUPS.includes(tool.group) && USER_PROFILE.includes(tool.name);
  return roleAllows(principal.role, tool.name) && principal.groups.includes(tool.group);
}

/** Refuses, before a handler runs, a tool the principal may not call. */
export function assertMayCall(principal: Principal, tool: AnyToolDef): void {
  if (!mayCall(principal, tool)) {
    throw new AppError("forbidden", "tool_forbidden", `this token may not call ${tool.name}`);
  }
}

/**
 * Refuses what only an admin may do, whatever groups a token was issued with (tokens, users,
 * servers, ports, agent configs): a handler's own guard beside the registry's group check.
 */
export function assertAdmin(principal: Principal, toolName: string): void {
  if (principal.kind !== "admin") {
    throw new AppError("forbidden", "tool_forbidden", `only an admin may call ${toolName}`);
  }
}

/**
 * Refuses access to a project the principal may not touch: a worker's other projects, a user's
 * projects owned by someone else. Same answer as a missing project, so nothing leaks about others.
 */
export async function assertProject(
  ctx: { principal: Principal; store: Store },
  projectId: string,
): Promise<void> {
  const { principal } = ctx;
  if (principal.kind === "worker" && principal.projectId !== projectId) {
    throw AppError.notFound("project", projectId);
  }
  if (principal.kind === "user") {
    const project = await ctx.store.projects.get(projectId);
    if (project.ownerId !== principal.userId) throw AppError.notFound("project", projectId);
  }
}

/**
 * How a list must be narrowed for `principal`: to one project (a worker), to an owner's projects
 * (a user), or not at all (an admin).
 */
export type ListScope = { projectId: string } | { ownerId: string } | null;

/** The `ListScope` of a principal. */
export function listScope(principal: Principal): ListScope {
  if (principal.kind === "worker") return { projectId: principal.projectId };
  if (principal.kind === "user") return { ownerId: principal.userId };
  return null;
}
