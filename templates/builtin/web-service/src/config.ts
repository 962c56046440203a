import { resolve } from "node:path";
import { z } from "zod";

/** Settings read from the environment once at start. */
export interface Config {
  port: number;
  /** Interface to listen on: all of them by default, so the deploy can reach the service. */
  host: string;
  appEnv: string;
  publicUrl: string | undefined;
  /** Absolute path of the folder kept across releases and restarts (see `src/store.ts`). */
  dataDir: string;
  logLevel: LogLevel;
}

export const LogLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
export type LogLevel = z.infer<typeof LogLevel>;

const Port = z.coerce.number().int().min(0).max(65535);

/**
 * Reads the service's settings; throws with a clear message on a missing or bad value. A new
 * variable goes here (and in `orchestrator.json`'s `env`, so the deploy provides it).
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Port.safeParse(env.PORT);
  if (!env.PORT || !port.success) {
    throw new Error(`PORT must be a TCP port number, got ${JSON.stringify(env.PORT ?? null)}`);
  }
  const appEnv = env.APP_ENV || "development";
  const logLevel = LogLevel.safeParse(env.LOG_LEVEL || (appEnv === "test" ? "warn" : "info"));
  if (!logLevel.success) {
    throw new Error(
      `LOG_LEVEL must be one of ${LogLevel.options.join(", ")}, got ${JSON.stringify(env.LOG_LEVEL)}`,
    );
  }
  return {
    port: port.data,
    host: env.HOST || "0.0.0.0",
    appEnv,
    publicUrl: env.PUBLIC_URL || undefined,
    dataDir: resolve(env.DATA_DIR || "./data"),
    logLevel: logLevel.data,
  };
}
