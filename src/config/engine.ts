import { z } from "zod";
import { Duration, type EnvVarSpec } from "./values.js";

/** Settings of the engine: the Developer/Tester loop, the Tester's bounds, leases and recovery. */
export const ENGINE_VARS = {
  ENGINEERING_MAX_ITERATIONS: {
    schema: z.coerce.number().int().min(1).max(20),
    doc: "Developer -> Tester rounds before an engineering run ends blocked",
    default: "3",
  },
  ENGINEERING_INSTALL_TIMEOUT: {
    schema: Duration,
    doc: "Bound on the template's install command in the Tester",
    default: "10m",
  },
  ENGINEERING_TEST_TIMEOUT: {
    schema: Duration,
    doc: "Bound on the template's test command in the Tester",
    default: "10m",
  },
  ENGINE_LEASE_TTL: {
    schema: Duration,
    doc: "A run whose engine process stopped renewing its lease this long is resumed by another",
    default: "60s",
  },
  SCRIPTED_PLAYBOOK: {
    schema: z.string().min(1),
    doc: "JSON file of scripts the scripted agent plays in engineering runs (default: the demo's)",
  },
  ENGINE_RECOVERY_INTERVAL: {
    schema: Duration,
    doc: "How often the engine looks for runs nobody executes (their process died)",
    default: "15s",
  },
} as const satisfies Record<string, EnvVarSpec>;

/** The `engine` section of the typed settings. */
export const EngineSettings = z.object({
  maxIterations: z.number().int(),
  installTimeoutMs: z.number().int(),
  testTimeoutMs: z.number().int(),
  leaseTtlMs: z.number().int(),
  recoveryIntervalMs: z.number().int(),
  scriptedPlaybook: z.string().nullable(),
});
