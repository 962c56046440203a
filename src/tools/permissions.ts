import { type AgentRole, AppError, type Principal } from "../contracts/index.js";
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

export function roleAllows(role: AgentRole, toolName: string): boolean {
  const profile = ROLE_PROFILES[role];
  return profile.includes("*") || profile.includes(toolName);
}

/** True when `principal` may call `tool` at all (project scope is checked separately). */
export function mayCall(principal: Principal, tool: AnyToolDef): boolean {
  if (principal.kind === "admin") return true;
  return roleAllows(principal.role, tool.name) && principal.groups.includes(tool.group);
}

export function assertMayCall(principal: Principal, tool: AnyToolDef): void {
  if (!mayCall(principal, tool)) {
    throw new AppError("forbidden", "tool_forbidden", `this token may not call ${tool.name}`);
  }
}

/** Refuses access to another project's data for a project-scoped principal. */
export function assertProject(principal: Principal, projectId: string): void {
  if (principal.kind === "worker" && principal.projectId !== projectId) {
    // Same answer as a missing project: a scoped token learns nothing about others.
    throw AppError.notFound("project", projectId);
  }
}

/** The project a list must be limited to, or undefined for an admin. */
export function projectScope(principal: Principal): string | undefined {
  return principal.kind === "worker" ? principal.projectId : undefined;
}
