import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../../src/app.js";
import { readConfig } from "../../src/config.js";

/** The service running for one acceptance test file. */
export interface Service {
  /** Base URL on loopback, e.g. `http://127.0.0.1:40123`; call it with `fetch`. */
  url: string;
  /** The service's DATA_DIR: pass it as `DATA_DIR` to a second `startService` to test a restart. */
  dataDir: string;
  stop(): Promise<void>;
}

const madeDirs: string[] = [];
process.once("exit", () => {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts the real service on a free loopback port with `env` (PORT, APP_ENV=test and LOG_LEVEL=warn
 * are set for you). DATA_DIR is a new empty folder unless `env.DATA_DIR` names one; the folders made
 * here are removed when the test process exits, not by `stop()`, so a restart can reuse one.
 */
export async function startService(env: Record<string, string> = {}): Promise<Service> {
  let dataDir = env.DATA_DIR;
  if (!dataDir) {
    dataDir = mkdtempSync(join(tmpdir(), "service-data-"));
    madeDirs.push(dataDir);
  }
  const app = buildApp(
    readConfig({ PORT: "0", APP_ENV: "test", LOG_LEVEL: "warn", ...env, DATA_DIR: dataDir }),
  );
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    async stop() {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}
