import { z } from "zod";
import { CHAT_VARS, ChatSettings } from "./chat.js";
import { DEPLOY_VARS, DeploySettings, SecretsSettings } from "./deploy.js";
import { ENGINE_VARS, EngineSettings } from "./engine.js";
import { FORGE_VARS, ForgeSettings } from "./forge.js";
import { GC_VARS, GcSettings } from "./gc.js";
import { LLM_VARS, LlmSettings } from "./llm.js";
import { MONITOR_VARS, MonitorSettings } from "./monitor.js";
import { PROCESS_VARS, WebSettings } from "./process.js";
import { TRACING_VARS, TracingSettings } from "./tracing.js";
import { LogLevel } from "./values.js";
import { WORKER_VARS, WorkerSettings } from "./workers.js";

/**
 * How the process runs: `embedded` (`orchestrator up`: PGlite + in-process bus, defaults for
 * everything) or `server` (`orchestrator serve`: PostgreSQL + Redis, required URLs fail fast).
 */
export type Mode = "embedded" | "server";

/** Each environment variable the orchestrator reads, with its schema and meaning (README's table). */
export const ENV_VARS = {
  ...PROCESS_VARS,
  ...WORKER_VARS,
  ...LLM_VARS,
  ...ENGINE_VARS,
  ...DEPLOY_VARS,
  ...GC_VARS,
  ...MONITOR_VARS,
  ...CHAT_VARS,
  ...FORGE_VARS,
  ...TRACING_VARS,
} as const;

/** The name of a variable `ENV_VARS` describes. */
export type VarName = keyof typeof ENV_VARS;

/** The typed settings every composition root is built from, one section per concern. */
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
  workers: WorkerSettings,
  llm: LlmSettings,
  engine: EngineSettings,
  secrets: SecretsSettings,
  deploy: DeploySettings,
  gc: GcSettings,
  monitor: MonitorSettings,
  chat: ChatSettings,
  forge: ForgeSettings,
  web: WebSettings,
  tracing: TracingSettings,
});
export type Config = z.infer<typeof Config>;
