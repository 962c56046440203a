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
