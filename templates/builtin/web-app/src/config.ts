import { resolve } from "node:path";

/** Settings read from the environment once at start. Add a variable here and in orchestrator.json. */
export interface Config {
  port: number;
  appEnv: string;
  publicUrl: string | undefined;
  /** Folder kept across releases and restarts: everything the site must remember lives here. */
  dataDir: string;
  /** pino level: `silent` under tests, `info` otherwise. */
  logLevel: string;
}

/** Reads the site's settings; throws with a clear message on a missing or bad PORT. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT);
  if (!env.PORT || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a TCP port number, got ${JSON.stringify(env.PORT ?? null)}`);
  }
  const appEnv = env.APP_ENV || "development";
  return {
    port,
    appEnv,
    publicUrl: env.PUBLIC_URL || undefined,
    dataDir: resolve(env.DATA_DIR || "./data"),
    logLevel: appEnv === "test" ? "silent" : "info",
  };
}
