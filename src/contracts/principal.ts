import { z } from "zod";
import { AgentRole, ToolGroup } from "./entities.js";

/**
 * Who is calling, as established by the API's bearer token: an admin (everything) or a worker
 * limited to one project, one agent role and some tool groups.
 */
export const Principal = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("admin"), tokenId: z.string() }),
  z.object({
    kind: z.literal("worker"),
    tokenId: z.string(),
    projectId: z.uuid(),
    role: AgentRole,
    workerId: z.uuid().nullable(),
    groups: z.array(ToolGroup),
  }),
]);
export type Principal = z.infer<typeof Principal>;
