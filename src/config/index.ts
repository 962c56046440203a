import { resolve } from "node:path";
import { z } from "zod";

/**
 * How the process runs: `embedded` (`orchestrator up`: PGlite + in-process bus, defaults for
 * everything) or `server` (`orchestrator serve`: PostgreSQL + Redis, required URLs fail fast).
 */
export type Mode = "embedded" | "server";

const LogLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
const Port = z.coerce.number().int().min(0).max(65535);

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
/** `90s`, `30m`, `6h`, `500ms`; a bare number means seconds. Parsed to milliseconds. */
export const Duration = z
  .string()
  .regex(/^\d+(ms|s|m|h)?$/, "a duration like 90s, 30m or 6h")
  .transform((s) => {
    const [, amount, unit] = /^(\d+)(ms|s|m|h)?$/.exec(s) ?? [];
    return Number(amount) * DURATION_UNITS_MS[(unit as keyof typeof DURATION_UNITS_MS) ?? "s"];
  });

/** Each environment variable the orchestrator reads, with its schema and meaning (README's table). */
export const ENV_VARS = {
  ORCHESTRATOR_DATA_DIR: {
    schema: z.string().min(1),
    doc: "Data directory (embedded database, admin token file)",
    embedded: "./.orchestrator",
  },
  ORCHESTRATOR_HOST: {
    schema: z.string().min(1),
    doc: "Address the API listens on",
    embedded: "127.0.0.1",
    server: "0.0.0.0",
  },
  ORCHESTRATOR_PORT: {
    schema: Port,
    doc: "Port this process listens on: the API, admin UI, /health and /metrics; without the api role only /health and /metrics",
    embedded: "8080",
    server: "8080",
  },
  DATABASE_URL: {
    schema: z.url({ protocol: /^postgres(ql)?$/ }),
    doc: "PostgreSQL URL; required by `serve`, optional for `up`",
  },
  REDIS_URL: {
    schema: z.url({ protocol: /^rediss?$/ }),
    doc: "Redis URL for the bus; required by `serve`, optional for `up`",
  },
  LOG_LEVEL: { schema: LogLevel, doc: "pino log level", embedded: "info", server: "info" },
  BUS_MAX_DELIVERIES: {
    schema: z.coerce.number().int().min(1).max(100),
    doc: "Deliveries before a message goes to the dead-letter stream",
    embedded: "5",
    server: "5",
  },
  WORKER_RUNTIME: {
    schema: z.enum(["process", "docker"]),
    doc: "Where agent workers run: `process` (bubblewrap when available) or `docker`",
    default: "process",
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
  ANTHROPIC_BASE_URL: {
    schema: z.url({ protocol: /^https?$/ }),
    doc: "Anthropic API the model gateway forwards to (default: Anthropic's own)",
  },
  OPENAI_BASE_URL: {
    schema: z.url({ protocol: /^https?$/ }),
    doc: "OpenAI-compatible API the model gateway forwards to, with or without /v1 (default: OpenAI's own)",
  },
  LLM_GATEWAY_TIMEOUT: {
    schema: Duration,
    doc: "Longest one model call through the gateway may take, streaming included",
    default: "10m",
  },
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
  INSTANCE_TTL: {
    schema: Duration.refine((ms) => ms >= 1_000, "at least 1s"),
    doc: "A process whose heartbeat in the store is this old counts as stopped: calls to its workers fail at once and another engine adopts its local releases (renewed every third of it)",
    default: "15s",
  },
  ORCHESTRATOR_SECRET_KEY: {
    schema: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "32 bytes in base64 (openssl rand -base64 32)"),
    doc: "Key of the secrets vault (default: a key file made once in the data directory)",
  },
  SECRETS_REFRESH_INTERVAL: {
    schema: Duration.refine((ms) => ms >= 1_000 && ms <= 10 * 60_000, "from 1s to 10m"),
    doc: "How often each process learns the secret values other processes stored, to mask them in records and answers",
    default: "30s",
  },
  DEPLOY_HEALTH_DEADLINE: {
    schema: Duration,
    doc: "How long a new release has to pass its health gate (polled every second)",
    default: "30s",
  },
  TELEGRAM_API_ROOT: {
    schema: z.url({ protocol: /^https?$/ }),
    doc: "Bot API root given to deployed bots and used by their health gate (default: Telegram's)",
  },
  DEPLOY_PORT_RANGE: {
    schema: z
      .string()
      .regex(/^\d{4,5}-\d{4,5}$/, "two ports like 20000-29999")
      .transform((s) => s.split("-").map(Number) as [number, number])
      .refine(([min, max]) => min >= 1024 && max <= 65_535 && min <= max, "from 1024 to 65535, low-high"),
    // Below Linux's ephemeral range (32768-60999), so outgoing connections never hold one of ours.
    doc: "Ports given to deployed services (on this machine or each server)",
    default: "20000-29999",
  },
  DEPLOY_DRIVER: {
    schema: z.enum(["local", "ssh-compose"]),
    doc: "How projects are deployed: `local` (processes on this machine) or `ssh-compose` (Docker Compose on registered servers over SSH)",
    default: "local",
  },
  DEPLOY_BASE_IMAGE: {
    schema: z.string().min(1),
    doc: "Base image of every release's Dockerfile (ssh-compose)",
    default: "node:20-bookworm-slim",
  },
  DEPLOY_REMOTE_ROOT: {
    schema: z.string().regex(/^\/[A-Za-z0-9._/-]*$/, "an absolute path"),
    doc: "Folder on each server that holds the projects' releases (ssh-compose)",
    default: "/srv/orchestrator",
  },
  DEPLOY_BUILD_NETWORK: {
    schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "a Docker network name, e.g. host"),
    doc: "Docker network the release builds' RUN steps use on servers (ssh-compose; default: the engine's)",
  },
  SERVER_CHECK_INTERVAL: {
    schema: Duration,
    doc: "How often the engine re-checks registered servers over SSH (a failing one goes to `error`)",
    default: "5m",
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
} as const satisfies Record<
  string,
  { schema: z.ZodType; doc: string; embedded?: string; server?: string; default?: string }
>;

export const Config = z.object({
  mode: z.enum(["embedded", "server"]),
  dataDir: z.string(),
  host: z.string(),
  port: z.number().int(),
  databaseUrl: z.string().nullable(),
  redisUrl: z.string().nullable(),
  logLevel: LogLevel,
  busMaxDeliveries: z.number().int(),
  /** How long a process's heartbeat counts (see `INSTANCE_TTL`). */
  instanceTtlMs: z.number().int(),
  workers: z.object({
    runtime: z.enum(["process", "docker"]),
    image: z.string(),
    dockerHost: z.string().nullable(),
    pausedTtlMs: z.number().int(),
    hardTtlMs: z.number().int(),
    sweepIntervalMs: z.number().int(),
    sessionMaxContextTokens: z.number().int(),
    sessionMaxAgeMs: z.number().int(),
    apiUrl: z.string(),
    node: z.string().nullable(),
  }),
  /** The model gateway: where providers are reached and with which keys (never handed to sandboxes). */
  llm: z.object({
    anthropicBaseUrl: z.string().nullable(),
    openaiBaseUrl: z.string().nullable(),
    gatewayTimeoutMs: z.number().int(),
    /** Model-provider credentials; secrets, never logged, never in a sandbox. */
    credentials: z.record(z.string(), z.string()),
  }),
  engine: z.object({
    maxIterations: z.number().int(),
    installTimeoutMs: z.number().int(),
    testTimeoutMs: z.number().int(),
    leaseTtlMs: z.number().int(),
    recoveryIntervalMs: z.number().int(),
    scriptedPlaybook: z.string().nullable(),
  }),
  /** Redaction of secret values in everything stored or served. */
  secrets: z.object({ refreshIntervalMs: z.number().int() }),
  deploy: z.object({
    secretKey: z.string().nullable(),
    healthDeadlineMs: z.number().int(),
    telegramApiRoot: z.string().nullable(),
    portRange: z.tuple([z.number().int(), z.number().int()]),
    driver: z.enum(["local", "ssh-compose"]),
    baseImage: z.string(),
    remoteRoot: z.string(),
    buildNetwork: z.string().nullable(),
    serverCheckIntervalMs: z.number().int(),
  }),
});
export type Config = z.infer<typeof Config>;

/** A configuration error names every variable that is missing or malformed, and why. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join("; ")}`);
    this.name = "ConfigError";
  }
}

type VarName = keyof typeof ENV_VARS;

/**
 * Credentials of the model providers. The model gateway holds the model keys; only
 * `FACTORY_API_KEY` (Factory's own account key, which the droid CLI needs to start) enters a
 * droid worker's sandbox.
 */
export const AGENT_CREDENTIAL_VARS = [
  "ANTHROPIC_API_KEY",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "OPENAI_API_KEY",
  "FACTORY_API_KEY",
] as const;
const REQUIRED_IN_SERVER: VarName[] = ["DATABASE_URL", "REDIS_URL"];

/**
 * Reads typed settings from `env`; throws `ConfigError` listing every bad or missing variable.
 * `roles`, when given, are the roles the process will run: a `serve` process with workers or an
 * engine but no API cannot guess where the API is, so it needs `WORKER_API_URL`.
 */
export function loadConfig(env: NodeJS.ProcessEnv, mode: Mode, roles?: readonly string[]): Config {
  const problems: { variable: string; message: string }[] = [];
  if (
    mode === "server" &&
    roles &&
    !roles.includes("api") &&
    roles.some((role) => role === "workers" || role === "engine") &&
    !env.WORKER_API_URL?.trim()
  ) {
    problems.push({
      variable: "WORKER_API_URL",
      message:
        "required for a workers or engine process without the api role: the API's URL as sandboxes reach it (also the base of git clone URLs)",
    });
  }
  const read = <K extends VarName>(name: K): z.infer<(typeof ENV_VARS)[K]["schema"]> | null => {
    const spec = ENV_VARS[name] as {
      schema: z.ZodType;
      embedded?: string;
      server?: string;
      default?: string;
    };
    const raw = env[name]?.trim() || spec[mode] || spec.default || undefined;
    if (raw === undefined) {
      if (mode === "server" && REQUIRED_IN_SERVER.includes(name))
        problems.push({ variable: name, message: "required in server mode" });
      return null;
    }
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) {
      // Never echo the value: it may hold a password.
      problems.push({ variable: name, message: parsed.error.issues.map((i) => i.message).join(", ") });
      return null;
    }
    return parsed.data as z.infer<(typeof ENV_VARS)[K]["schema"]>;
  };
  const config = {
    mode,
    dataDir: resolve(read("ORCHESTRATOR_DATA_DIR") ?? "./.orchestrator"),
    host: read("ORCHESTRATOR_HOST"),
    port: read("ORCHESTRATOR_PORT"),
    databaseUrl: read("DATABASE_URL"),
    redisUrl: read("REDIS_URL"),
    logLevel: read("LOG_LEVEL"),
    busMaxDeliveries: read("BUS_MAX_DELIVERIES"),
    instanceTtlMs: read("INSTANCE_TTL"),
    workers: {
      runtime: read("WORKER_RUNTIME"),
      image: read("WORKER_IMAGE"),
      dockerHost: read("DOCKER_HOST"),
      pausedTtlMs: read("WORKER_PAUSED_TTL"),
      hardTtlMs: read("WORKER_HARD_TTL"),
      sweepIntervalMs: read("WORKER_SWEEP_INTERVAL"),
      sessionMaxContextTokens: read("SESSION_MAX_CONTEXT_TOKENS"),
      sessionMaxAgeMs: read("SESSION_MAX_AGE"),
      apiUrl: read("WORKER_API_URL") ?? `http://127.0.0.1:${read("ORCHESTRATOR_PORT") ?? 8080}`,
      node: read("WORKERS_NODE"),
    },
    llm: {
      anthropicBaseUrl: read("ANTHROPIC_BASE_URL"),
      openaiBaseUrl: read("OPENAI_BASE_URL"),
      gatewayTimeoutMs: read("LLM_GATEWAY_TIMEOUT"),
      credentials: Object.fromEntries(
        AGENT_CREDENTIAL_VARS.flatMap((name) => (env[name]?.trim() ? [[name, env[name].trim()]] : [])),
      ),
    },
    engine: {
      maxIterations: read("ENGINEERING_MAX_ITERATIONS"),
      installTimeoutMs: read("ENGINEERING_INSTALL_TIMEOUT"),
      testTimeoutMs: read("ENGINEERING_TEST_TIMEOUT"),
      leaseTtlMs: read("ENGINE_LEASE_TTL"),
      recoveryIntervalMs: read("ENGINE_RECOVERY_INTERVAL"),
      scriptedPlaybook: read("SCRIPTED_PLAYBOOK"),
    },
    secrets: { refreshIntervalMs: read("SECRETS_REFRESH_INTERVAL") },
    deploy: {
      secretKey: read("ORCHESTRATOR_SECRET_KEY"),
      healthDeadlineMs: read("DEPLOY_HEALTH_DEADLINE"),
      telegramApiRoot: read("TELEGRAM_API_ROOT"),
      portRange: read("DEPLOY_PORT_RANGE"),
      driver: read("DEPLOY_DRIVER"),
      baseImage: read("DEPLOY_BASE_IMAGE"),
      remoteRoot: read("DEPLOY_REMOTE_ROOT"),
      buildNetwork: read("DEPLOY_BUILD_NETWORK"),
      serverCheckIntervalMs: read("SERVER_CHECK_INTERVAL"),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Config.parse(config);
}

/** The data directory the CLI reads the admin token from: `ORCHESTRATOR_DATA_DIR`, else `./.orchestrator`. */
export function cliDataDir(env: NodeJS.ProcessEnv): string {
  return resolve(env.ORCHESTRATOR_DATA_DIR?.trim() || "./.orchestrator");
}

/** The API URL the CLI calls: `ORCHESTRATOR_API_URL`, else loopback on `ORCHESTRATOR_PORT` (8080). */
export function cliApiUrl(env: NodeJS.ProcessEnv): string {
  const port = env.ORCHESTRATOR_PORT?.trim() || "8080";
  return (env.ORCHESTRATOR_API_URL?.trim() || `http://127.0.0.1:${port}`).replace(/\/+$/, "");
}

/**
 * The variables a CLI command needs, in a fresh shell in the same folder, to reach the
 * orchestrator at `apiUrl` with the token saved in `dataDir`: none when those are the defaults.
 */
export function cliEnvPrefix(apiUrl: string, dataDir: string): string {
  const vars: string[] = [];
  if (apiUrl.replace(/\/+$/, "") !== cliApiUrl({})) vars.push(`ORCHESTRATOR_API_URL=${apiUrl}`);
  if (resolve(dataDir) !== cliDataDir({})) vars.push(`ORCHESTRATOR_DATA_DIR=${dataDir}`);
  return vars.map((v) => `${v} `).join("");
}
