import { z } from "zod";
import { issueToken } from "../../auth/index.js";
import { AgentRole, ApiToken, ApiTokenKind, AppError, Id, ToolGroup } from "../../contracts/index.js";
import { type Api, type ApiDeps, showOnce } from "../context.js";

/** What `POST /api/tokens` accepts: a worker token must name its project and role. */
export const TokenCreate = z
  .object({
    name: z.string().trim().min(1).max(100),
    kind: ApiTokenKind.default("worker"),
    projectId: Id.nullable().default(null),
    role: AgentRole.nullable().default(null),
    groups: z.array(ToolGroup).default([]),
  })
  .superRefine((t, ctx) => {
    if (t.kind !== "worker") return;
    if (t.projectId === null)
      ctx.addIssue({ code: "custom", path: ["projectId"], message: "a worker token needs a project" });
    if (t.role === null)
      ctx.addIssue({ code: "custom", path: ["role"], message: "a worker token needs a role" });
  });

/** Admin management of API tokens. The token value appears once, in the creation response. */
export function registerTokenRoutes(app: Api, { store }: ApiDeps): void {
  app.get(
    "/api/tokens",
    { schema: { tags: ["tokens"], response: { 200: z.object({ items: z.array(ApiToken) }) } } },
    async () => ({
      items: await store.apiTokens.list(),
    }),
  );
  app.post(
    "/api/tokens",
    {
      schema: {
        tags: ["tokens"],
        body: TokenCreate,
        response: { 201: z.object({ token: z.string(), record: ApiToken }) },
      },
    },
    async (req, reply) => {
      if (req.body.projectId) await store.projects.get(req.body.projectId);
      const issued = await issueToken(store, req.body);
      showOnce(req, issued.token);
      return reply.code(201).send(issued);
    },
  );
  app.delete(
    "/api/tokens/:id",
    { schema: { tags: ["tokens"], params: z.object({ id: Id }), response: { 200: ApiToken } } },
    async (req) => {
      const tokens = await store.apiTokens.list();
      const target = tokens.find((t) => t.id === req.params.id);
      if (!target) throw AppError.notFound("token", req.params.id);
      const admins = tokens.filter((t) => t.kind === "admin" && t.revokedAt === null);
      if (target.kind === "admin" && target.revokedAt === null && admins.length === 1) {
        throw new AppError("conflict", "last_admin_token", "refusing to revoke the last admin token");
      }
      return store.apiTokens.revoke(req.params.id);
    },
  );
}
