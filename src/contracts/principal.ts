import { z } from "zod";
import { ToolGroup } from "./api-tokens.js";
import { AgentRole } from "./workers.js";

/**
 * Who is calling, as established by the API's bearer token: an admin (everything), a worker
 * limited to one project, one agent role and some tool groups, or a user (a person talking to the
 * Product Owner through a chat or the web) limited to the projects they own.
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
  z.object({ kind: z.literal("user"), tokenId: z.string(), userId: z.uuid() }),
]);
export type Principal = z.infer<typeof Principal>;
