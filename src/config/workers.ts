import { z } from "zod";
import { Duration, type EnvVarSpec } from "./values.js";

/**
 * How the process runtime isolates workers: `auto` uses bubblewrap and refuses agents with a model
 * where it cannot sandbox them; `none` runs every worker directly on the host, on purpose.
 */
export const WorkerSandbox = z.enum(["auto", "none"]);

/** Settings of agent workers: runtime, image, lifecycle limits, sessions, node name, API address. */
export const WORKER_VARS = {
  WORKER_RUNTIME: {
    schema: z.enum(["process", "docker"]),
    doc: "Where agent workers run: `process` (bubblewrap when available) or `docker`",
    default: "process",
  },
  WORKER_SANDBOX: {
    schema: WorkerSandbox,
    doc: "Sandbox of `process` workers: `auto` (bubblewrap; where it cannot make a sandbox, agents with a model are refused and only workers without one, scripted agents and the Tester, run) or `none` (no sandbox: every agent runs directly on the host, on purpose, with a warning at start)",
    default: "auto",
  },
  WORKER_IMAGE: {
    schema: z.string().min(1),
    doc: "Docker image of workers (docker runtime)",
    default: "orchestrator-worker:latest",
  },
  DOCKER_HOST: {
    schema: z.string().regex(/^(unix|tcp|ssh):\/\//, "unix://, tcp:// or ssh:// URL"),
    doc: "Docker engine of the docker runtime (default: the local socket)",
  },
  WORKER_PAUSED_TTL: {
    schema: Duration,
    doc: "A worker paused this long is terminated and its sandbox removed",
    default: "30m",
  },
  WORKER_HARD_TTL: { schema: Duration, doc: "Longest life of any worker", default: "6h" },
  WORKER_SWEEP_INTERVAL: { schema: Duration, doc: "How often lifecycle limits are enforced", default: "30s" },
  SESSION_MAX_CONTEXT_TOKENS: {
    schema: z.coerce.number().int().min(1000),
    doc: "An agent session is continued only while its context (input + cache read) stays below this",
    default: "150000",
  },
  SESSION_MAX_AGE: {
    schema: Duration,
    doc: "An agent session idle longer than this starts fresh (with the project summary)",
    default: "24h",
  },
  WORKERS_NODE: {
    schema: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "letters, digits, dot, dash, underscore"),
    doc: "Name of this workers node; calls about a worker go to the node holding it (default: an id kept in the data directory)",
  },
  WORKER_API_URL: {
    schema: z.url({ protocol: /^https?$/ }),
    doc: "How worker sandboxes reach the API, and the base of the git forge's clone URLs (default http://127.0.0.1:ORCHESTRATOR_PORT; required by `serve` for a workers or engine process without the api role)",
  },
} as const satisfies Record<string, EnvVarSpec>;

/** The `workers` section of the typed settings. */
export const WorkerSettings = z.object({
  runtime: z.enum(["process", "docker"]),
  sandbox: WorkerSandbox,
  image: z.string(),
  dockerHost: z.string().nullable(),
  pausedTtlMs: z.number().int(),
  hardTtlMs: z.number().int(),
  sweepIntervalMs: z.number().int(),
  sessionMaxContextTokens: z.number().int(),
  sessionMaxAgeMs: z.number().int(),
  apiUrl: z.string(),
  node: z.string().nullable(),
});
