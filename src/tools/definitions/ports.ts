import { z } from "zod";
import { Id, PortAllocation, PortAllocationCreate } from "../../contracts/index.js";
import { assertAdmin } from "../permissions.js";
import { defineTool } from "../tool.js";

export const portAllocate = defineTool({
  name: "port.allocate",
  group: "admin",
  summary:
    "Reserve a port on a server for a project's service by hand (a port already taken there is a conflict). Admin only.",
  input: PortAllocationCreate,
  output: PortAllocation,
  async handler(input, ctx) {
    assertAdmin(ctx.principal, "port.allocate");
    return ctx.store.ports.allocate(input);
  },
});

export const portRelease = defineTool({
  name: "port.release",
  group: "admin",
  summary: "Free a port allocation by id. Admin only.",
  input: z.object({ id: Id.describe("port allocation UUID") }),
  output: z.object({ id: Id, isReleased: z.literal(true) }),
  async handler(input, ctx) {
    assertAdmin(ctx.principal, "port.release");
    await ctx.store.ports.get(input.id);
    await ctx.store.ports.release(input.id);
    return { id: input.id, isReleased: true as const };
  },
});
