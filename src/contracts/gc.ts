import { z } from "zod";

/**
 * What garbage collection removes, one kind per job: the `kind` label of
 * `orchestrator_gc_removed_total` and of the last-run gauges.
 */
export const GcKind = z.enum([
  "worker_records",
  "worker_sandboxes",
  "workspaces",
  "checkouts",
  "npm_caches",
  "dead_letters",
  "releases",
]);
export type GcKind = z.infer<typeof GcKind>;
