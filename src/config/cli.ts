import { resolve } from "node:path";

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
