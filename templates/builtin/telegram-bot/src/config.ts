/** Settings read from the environment once at start. */
export interface Config {
  token: string;
  /** Bot API root; undefined means grammY's default (https://api.telegram.org). */
  apiRoot: string | undefined;
  /** Folder kept across releases and restarts: the stores live here (`DATA_DIR`, default `./data`). */
  dataDir: string;
}

/** Reads the bot's settings; throws with a clear message when the token is missing. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const token = env.TELEGRAM_BOT_TOKEN?.trim();
  if (!token) throw new Error("TELEGRAM_BOT_TOKEN is not set");
  const apiRoot = env.TELEGRAM_API_ROOT?.trim() || undefined;
  const dataDir = env.DATA_DIR?.trim() || "./data";
  return { token, apiRoot, dataDir };
}
