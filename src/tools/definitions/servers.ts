import { z } from "zod";
import {
  AppError,
  Id,
  PageQuery,
  pageOf,
  Server,
  ServerCheck,
  ServerRegisterInput,
} from "../../contracts/index.js";
import type { ServerService } from "../../deploy/index.js";
import { assertAdmin } from "../permissions.js";
import { defineTool, type ToolContext } from "../tool.js";

/** The server service of this call, or `unavailable` when the caller runs without the deploy module. */
function serversOf(ctx: ToolContext): ServerService {
  if (!ctx.servers) {
    throw new AppError("unavailable", "servers_unavailable", "server management is not available here");
  }
  return ctx.servers;
}

export const serverList = defineTool({
  name: "server.list",
  group: "servers",
  summary: "List deploy servers with status, capacity and the last check's error.",
  input: PageQuery,
  output: pageOf(Server),
  async handler(input, ctx) {
    // Servers are an admin's, whatever groups a token was issued with.
    assertAdmin(ctx.principal, "server.list");
    return serversOf(ctx).list(input);
  },
});

export const serverRegister = defineTool({
  name: "server.register",
  group: "servers",
  secretField: "privateKey",
  summary:
    "Register a deploy server (handle, host, SSH port and user, private key stored encrypted, optional host key fingerprint), then check it. Admin only.",
  input: ServerRegisterInput,
  output: ServerCheck,
  async handler(input, ctx) {
    assertAdmin(ctx.principal, "server.register");
    const servers = serversOf(ctx);
    const server = await servers.register(input);
    return servers.check(server.id);
  },
});

export const serverCheck = defineTool({
  name: "server.check",
  group: "servers",
  summary:
    "Check a server over SSH (OS, disk, memory, Docker, Compose): it becomes ready, or error with each missing piece named.",
  input: z.object({ id: Id.describe("server UUID") }),
  output: ServerCheck,
  async handler(input, ctx) {
    assertAdmin(ctx.principal, "server.check");
    return serversOf(ctx).check(input.id);
  },
});

export const serverRemove = defineTool({
  name: "server.remove",
  group: "servers",
  summary:
    "Remove a server; refused while ports are allocated on it unless force (which releases them). Admin only.",
  input: z.object({
    id: Id.describe("server UUID"),
    force: z.boolean().default(false).describe("release its ports and remove anyway"),
  }),
  output: Server,
  async handler(input, ctx) {
    assertAdmin(ctx.principal, "server.remove");
    return serversOf(ctx).remove(input.id, { force: input.force });
  },
});
