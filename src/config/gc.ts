import { z } from "zod";
import { Duration, type EnvVarSpec } from "./values.js";

/** Settings of garbage collection: how often it runs and how old each kind of leftover must be. */
export const GC_VARS = {
  GC_INTERVAL: {
    schema: Duration.refine((ms) => ms > 0, "a duration above zero"),
    doc: "How often each garbage collection job runs",
    default: "10m",
  },
  GC_WORKER_RECORD_AGE: {
    schema: Duration,
    doc: "Records of workers that ended (stopped, failed, gone) this long ago are deleted (their token usage stays)",
    default: "168h",
  },
  GC_WORKSPACE_AGE: {
    schema: Duration,
    doc: "Workspaces of runs that finished this long ago are removed with their workers' sandboxes, and the engine's leftover checkouts this old",
    default: "1h",
  },
  GC_DEAD_LETTER_AGE: {
    schema: Duration,
    doc: "Bus messages dead-lettered this long ago are deleted (the admin dashboard and logs have reported them by then)",
    default: "168h",
  },
} as const satisfies Record<string, EnvVarSpec>;

/** The `gc` section of the typed settings. */
export const GcSettings = z.object({
  intervalMs: z.number().int().positive(),
  workerRecordAgeMs: z.number().int(),
  workspaceAgeMs: z.number().int(),
  deadLetterAgeMs: z.number().int(),
});
export type GcSettings = z.infer<typeof GcSettings>;
