/** Settings read from the environment once at start. */
export interface Config {
  port: number;
  appEnv: string;
  publicUrl: string | undefined;
}

/** Reads the service's settings; throws with a clear message on a missing or bad PORT. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT);
  if (!env.PORT || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a TCP port number, got ${JSON.stringify(env.PORT ?? null)}`);
  }
  return { port, appEnv: env.APP_ENV || "development", publicUrl: env.PUBLIC_URL || undefined };
}
