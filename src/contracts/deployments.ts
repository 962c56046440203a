import { z } from "zod";
import { Id, Timestamp } from "./ids.js";
import { DeploymentStatus } from "./status.js";

/** Immutable record of one deploy attempt. */
export const Deployment = z.object({
  id: Id,
  projectId: Id,
  runId: Id.nullable(),
  serverId: Id.nullable(),
  commitSha: z.string().regex(/^[0-9a-f]{7,64}$/),
  release: z.string().min(1),
  url: z.string().nullable(),
  status: DeploymentStatus,
  healthCheck: z.record(z.string(), z.unknown()).nullable(),
  logsExcerpt: z.string().nullable(),
  createdAt: Timestamp,
  finishedAt: Timestamp.nullable(),
});
export type Deployment = z.infer<typeof Deployment>;
export const DeploymentCreate = Deployment.pick({ projectId: true, commitSha: true, release: true }).extend({
  runId: Id.nullable().default(null),
  serverId: Id.nullable().default(null),
});
export type DeploymentCreate = z.input<typeof DeploymentCreate>;
