import { z } from "zod";
import { createToken, revokeToken } from "../../auth/index.js";
import { ApiToken, ApiTokenCreate, Id } from "../../contracts/index.js";
import { assertAdmin } from "../permissions.js";
import { defineTool } from "../tool.js";

export const tokenCreate = defineTool({
  name: "token.create",
  group: "admin",
  shownOnceField: "token",
  summary:
    "Issue an API token, shown once: kind admin, worker (projectId and role, tool groups) or user (userId: that person's own projects). Admin only.",
  input: ApiTokenCreate,
  output: z.object({ token: z.string(), record: ApiToken }),
  async handler(input, ctx) {
    assertAdmin(ctx.principal, "token.create");
    return createToken(ctx.store, input);
  },
});

export const tokenRevoke = defineTool({
  name: "token.revoke",
  group: "admin",
  summary: "Revoke an API token by id; the last live admin token cannot be revoked. Admin only.",
  input: z.object({ id: Id.describe("token UUID") }),
  output: ApiToken,
  async handler(input, ctx) {
    assertAdmin(ctx.principal, "token.revoke");
    return revokeToken(ctx.store, input.id);
  },
});
