import { z } from "zod";
import { Id, Timestamp } from "./ids.js";
import { AgentRole } from "./workers.js";

/** Tool permission groups; a scoped token or role names the groups it may use. */
export const ToolGroup = z.enum([
  "projects",
  "runs",
  "workers",
  "engineering",
  "deploy",
  "servers",
  "secrets",
  "admin",
]);
export type ToolGroup = z.infer<typeof ToolGroup>;

/**
 * An API bearer token: admin (everything), worker (one project, some tool groups) or user (a person:
 * the projects that user owns). Hash only.
 */
export const ApiTokenKind = z.enum(["admin", "worker", "user"]);
export const ApiToken = z.object({
  id: Id,
  name: z.string().min(1).max(100),
  kind: ApiTokenKind,
  projectId: Id.nullable(),
  role: AgentRole.nullable(),
  /** Set for a worker's own token: reports and progress are attributed to this worker. */
  workerId: Id.nullable(),
  /** Set for a user token: the `users` row it acts for. */
  userId: Id.nullable(),
  groups: z.array(ToolGroup),
  createdAt: Timestamp,
  revokedAt: Timestamp.nullable(),
  lastUsedAt: Timestamp.nullable(),
});
export type ApiToken = z.infer<typeof ApiToken>;

/**
 * What issuing a token takes, checked the same at every door (API, CLI): a worker token names its
 * project and role, a user token its user and nothing else.
 */
export const ApiTokenCreate = z
  .object({
    name: z.string().trim().min(1).max(100),
    kind: ApiTokenKind.default("worker"),
    projectId: Id.nullable().default(null),
    role: AgentRole.nullable().default(null),
    userId: Id.nullable().default(null),
    groups: z.array(ToolGroup).default([]),
  })
  .superRefine((t, ctx) => {
    if (t.kind === "worker") {
      if (t.projectId === null)
        ctx.addIssue({ code: "custom", path: ["projectId"], message: "a worker token needs a project" });
      if (t.role === null)
        ctx.addIssue({ code: "custom", path: ["role"], message: "a worker token needs a role" });
    }
    if (t.kind === "user") {
      if (t.userId === null)
        ctx.addIssue({ code: "custom", path: ["userId"], message: "a user token needs a user" });
      for (const field of ["projectId", "role"] as const) {
        if (t[field] !== null)
          ctx.addIssue({
            code: "custom",
            path: [field],
            message: "a user token reaches the projects its user owns, not one project or role",
          });
      }
      if (t.groups.length > 0)
        ctx.addIssue({ code: "custom", path: ["groups"], message: "a user token has fixed tool groups" });
    } else if (t.userId !== null) {
      ctx.addIssue({ code: "custom", path: ["userId"], message: "only a user token names a user" });
    }
  });
export type ApiTokenCreate = z.input<typeof ApiTokenCreate>;
