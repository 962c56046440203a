import { z } from "zod";
import { Id } from "./ids.js";

/** What a teardown does with a project's stored data (`DATA_DIR`): the person's choice. */
export const TeardownData = z.enum(["keep", "delete"]);
export type TeardownData = z.infer<typeof TeardownData>;

/** What a `deploy` run is asked to do: deploy a commit, go back to the previous release, or tear down. */
export const DeployRunInput = z.object({
  projectId: Id,
  action: z.enum(["deploy", "rollback", "teardown"]),
  /** The commit to deploy (action `deploy`); full SHA. */
  commit: z
    .string()
    .regex(/^[0-9a-f]{40}$/, "a full commit SHA")
    .nullable()
    .default(null),
  /** The engineering run whose green commit this deploys (dedup: one deploy per run). */
  sourceRunId: Id.nullable().default(null),
  /** The deploy blocked on missing secrets that this one takes up again once they are filled. */
  resumes: Id.nullable().default(null),
  /** Action `teardown`: keep the project's `DATA_DIR` for a later deploy, or delete it. */
  data: TeardownData.default("keep"),
});
export type DeployRunInput = z.input<typeof DeployRunInput>;

/** Every terminal `deploy` run carries this as its `result`. */
export const DeployRunResult = z.object({
  outcome: z.enum(["succeeded", "failed", "blocked"]),
  action: z.enum(["deploy", "rollback", "teardown"]),
  commit: z.string().nullable(),
  release: z.string().nullable(),
  deploymentId: Id.nullable(),
  url: z.string().nullable(),
  botUsername: z.string().nullable(),
  /** Names of required secrets without a value (never values). */
  missing: z.array(z.string()),
  /** Whether the release that ran before is serving again after a failed gate. */
  restoredPrevious: z.boolean(),
  summary: z.string(),
});
export type DeployRunResult = z.infer<typeof DeployRunResult>;
