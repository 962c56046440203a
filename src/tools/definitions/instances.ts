import { z } from "zod";
import { AppError, Instance } from "../../contracts/index.js";
import { defineTool } from "../tool.js";

export const instanceList = defineTool({
  name: "instance.list",
  group: "admin",
  summary:
    "List the orchestrator's processes (API, engines, workers nodes) from their heartbeats: roles, host, pid, start, last heartbeat, whether alive, and where /health answers.",
  input: z.object({
    alive: z.boolean().optional().describe("only processes alive (true) or stopped (false)"),
  }),
  output: z.object({ items: z.array(Instance) }),
  async handler(input, ctx) {
    // Which processes run where, and on which hosts, is an operator's business, never an agent's.
    if (ctx.principal.kind !== "admin") {
      throw new AppError("forbidden", "tool_forbidden", "only an admin may call instance.list");
    }
    const all = await ctx.store.instances.list();
    return { items: input.alive === undefined ? all : all.filter((i) => i.alive === input.alive) };
  },
});
