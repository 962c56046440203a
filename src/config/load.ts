import { resolve } from "node:path";
import type { z } from "zod";
import { ConfigError, type ConfigProblem } from "./errors.js";
import { forgeSettings } from "./forge.js";
import { AGENT_CREDENTIAL_VARS } from "./llm.js";
import { Config, ENV_VARS, type Mode, type VarName } from "./schema.js";
import type { EnvVarSpec } from "./values.js";

const REQUIRED_IN_SERVER: VarName[] = ["DATABASE_URL", "REDIS_URL"];

/**
 * Reads typed settings from `env`; throws `ConfigError` listing every bad or missing variable.
 * `roles`, when given, are the roles the process will run: a `serve` process with workers, an
 * engine or the chat but no API cannot guess where the API is, so it needs `WORKER_API_URL`.
 */
export function loadConfig(env: NodeJS.ProcessEnv, mode: Mode, roles?: readonly string[]): Config {
  const problems: ConfigProblem[] = [];
  if (
    mode === "server" &&
    roles &&
    !roles.includes("api") &&
    roles.some((role) => role === "workers" || role === "engine" || role === "chat") &&
    !env.WORKER_API_URL?.trim()
  ) {
    problems.push({
      variable: "WORKER_API_URL",
      message:
        "required for a workers, engine or chat process without the api role: the API's URL as sandboxes and people reach it (also the base of git clone URLs)",
    });
  }
  const read = <K extends VarName>(name: K): z.infer<(typeof ENV_VARS)[K]["schema"]> | null => {
    const spec: EnvVarSpec = ENV_VARS[name];
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
  // Read once: a bad port is one problem, though the default worker API URL is built from it too.
  const port = read("ORCHESTRATOR_PORT");
  const config = {
    mode,
    dataDir: resolve(read("ORCHESTRATOR_DATA_DIR") ?? "./.orchestrator"),
    host: read("ORCHESTRATOR_HOST"),
    port,
    databaseUrl: read("DATABASE_URL"),
    redisUrl: read("REDIS_URL"),
    logLevel: read("LOG_LEVEL"),
    busMaxDeliveries: read("BUS_MAX_DELIVERIES"),
    instanceTtlMs: read("INSTANCE_TTL"),
    workers: {
      runtime: read("WORKER_RUNTIME"),
      sandbox: read("WORKER_SANDBOX"),
      image: read("WORKER_IMAGE"),
      dockerHost: read("DOCKER_HOST"),
      pausedTtlMs: read("WORKER_PAUSED_TTL"),
      hardTtlMs: read("WORKER_HARD_TTL"),
      sweepIntervalMs: read("WORKER_SWEEP_INTERVAL"),
      sessionMaxContextTokens: read("SESSION_MAX_CONTEXT_TOKENS"),
      sessionMaxAgeMs: read("SESSION_MAX_AGE"),
      apiUrl: read("WORKER_API_URL") ?? `http://127.0.0.1:${port ?? 8080}`,
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
    gc: {
      intervalMs: read("GC_INTERVAL"),
      workerRecordAgeMs: read("GC_WORKER_RECORD_AGE"),
      workspaceAgeMs: read("GC_WORKSPACE_AGE"),
      deadLetterAgeMs: read("GC_DEAD_LETTER_AGE"),
    },
    monitor: {
      intervalMs: read("MONITOR_INTERVAL"),
      restarts: read("MONITOR_RESTARTS"),
      restartBackoffMs: read("MONITOR_RESTART_BACKOFF"),
      probeTimeoutMs: read("MONITOR_PROBE_TIMEOUT"),
      repairsPerDay: read("MONITOR_REPAIRS_PER_DAY"),
    },
    chat: chatSettings(read, problems),
    forge: githubOrLocal(read, problems),
    web: { sessionTtlMs: read("WEB_SESSION_TTL"), cookieSecure: read("WEB_COOKIE_SECURE") },
    tracing: {
      endpoint: read("OTEL_EXPORTER_OTLP_ENDPOINT"),
      serviceName: read("OTEL_SERVICE_NAME"),
      traceUrl: read("OTEL_TRACE_URL"),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Config.parse(config);
}

/** The Telegram bot exists only with its token; the other Telegram settings refine it. */
function chatSettings(
  read: <K extends VarName>(name: K) => z.infer<(typeof ENV_VARS)[K]["schema"]> | null,
  problems: ConfigProblem[],
) {
  const token = read("TELEGRAM_BOT_TOKEN");
  const webhookUrl = read("TELEGRAM_WEBHOOK_URL");
  // Telegram's own servers post only to HTTPS; a local Bot API server posts to plain HTTP too.
  if (webhookUrl?.startsWith("http:") && !read("TELEGRAM_API_ROOT")) {
    problems.push({
      variable: "TELEGRAM_WEBHOOK_URL",
      message:
        "Telegram sends webhooks only to https URLs (http works with a local Bot API server: TELEGRAM_API_ROOT)",
    });
  }
  const webhookSecret = read("TELEGRAM_WEBHOOK_SECRET");
  const admins = read("TELEGRAM_ADMIN_USER_IDS") ?? [];
  return {
    telegram: token ? { token, webhookUrl, webhookSecret, admins } : null,
    poProvider: read("PO_PROVIDER"),
    poTurnTimeoutMs: read("PO_TURN_TIMEOUT"),
  };
}

/** GitHub's variables are read only with `FORGE=github`: a token kept for other tools changes nothing. */
function githubOrLocal(
  read: <K extends VarName>(name: K) => z.infer<(typeof ENV_VARS)[K]["schema"]> | null,
  problems: ConfigProblem[],
) {
  const kind = read("FORGE");
  if (kind !== "github")
    return forgeSettings({ kind, token: null, owner: null, apiUrl: null, gitUrl: null }, problems);
  return forgeSettings(
    {
      kind,
      token: read("GITHUB_TOKEN"),
      owner: read("GITHUB_OWNER"),
      apiUrl: read("GITHUB_API_URL"),
      gitUrl: read("GITHUB_GIT_URL"),
    },
    problems,
  );
}
