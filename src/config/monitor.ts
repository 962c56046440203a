import { z } from "zod";
import { Duration, type EnvVarSpec } from "./values.js";

/** `off`, or a duration above zero. */
const IntervalOrOff = z.union([
  z.literal("off").transform(() => null),
  Duration.refine((ms) => ms > 0, "a duration above zero, or off"),
]);

/** Settings of the health monitor of live deployments (see the README's "Health monitor"). */
export const MONITOR_VARS = {
  MONITOR_INTERVAL: {
    schema: IntervalOrOff,
    doc: "How often the health monitor probes every live deployment (`off` turns it off)",
    default: "1m",
  },
  MONITOR_RESTARTS: {
    schema: z.coerce.number().int().min(0).max(20),
    doc: "Restarts the monitor tries on a live deployment that fails its probe before it opens an incident",
    default: "3",
  },
  MONITOR_RESTART_BACKOFF: {
    schema: Duration.refine((ms) => ms > 0 && ms <= 3_600_000, "a duration above zero, at most 1h"),
    doc: "Wait before the monitor's first restart, doubled before each next one (at most 10 times the first)",
    default: "5s",
  },
  MONITOR_PROBE_TIMEOUT: {
    schema: Duration.refine((ms) => ms >= 100 && ms <= 600_000, "between 100ms and 10m"),
    doc: "How long one probe of a service's health check may take to answer 2xx",
    default: "5s",
  },
  MONITOR_REPAIRS_PER_DAY: {
    schema: z.coerce.number().int().min(0).max(100),
    doc: "Engineering runs the monitor may start per project and 24 hours to repair a deployment that stays down (projects with auto-repair on)",
    default: "1",
  },
} as const satisfies Record<string, EnvVarSpec>;

/** The `monitor` section of the typed settings; `intervalMs` null: the monitor is off. */
export const MonitorSettings = z.object({
  intervalMs: z.number().int().positive().nullable(),
  restarts: z.number().int().min(0),
  restartBackoffMs: z.number().int().positive(),
  probeTimeoutMs: z.number().int().positive(),
  repairsPerDay: z.number().int().min(0),
});
export type MonitorSettings = z.infer<typeof MonitorSettings>;
