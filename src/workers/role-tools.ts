import type { AgentRole } from "../contracts/index.js";

/**
 * The agent CLI's own (built-in) tools a turn may use, named for what they do; each agent backend
 * maps them to its CLI's names and flags. The orchestrator's tools (`report`, `progress`, …) come
 * over MCP and are not in this list: they stay available whatever it holds.
 */
export const BUILTIN_TOOLS = ["shell", "read", "write", "edit"] as const;
export type BuiltinTool = (typeof BUILTIN_TOOLS)[number];

/**
 * The one place saying which built-in tools each role is offered. Every tool offered is sent with
 * every model request of a turn, so a role gets only what its work needs: the architect (SPEC.md and
 * acceptance tests, reading an existing repository for a change) and the developer (code, tests,
 * git) read, write and edit files and run commands (listing and searching files go through the
 * shell); the tester and devops roles only run and read; the Product Owner none (it acts through
 * the orchestrator's tools).
 */
export const ROLE_BUILTIN_TOOLS: Readonly<Record<AgentRole, readonly BuiltinTool[]>> = {
  po: [],
  architect: ["shell", "read", "write", "edit"],
  developer: ["shell", "read", "write", "edit"],
  tester: ["shell", "read"],
  devops: ["shell", "read"],
};
