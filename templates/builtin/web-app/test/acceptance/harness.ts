import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../../src/app.js";
import { readConfig } from "../../src/config.js";

/** The site running for one acceptance test file. */
export interface Site {
  /** Base URL on loopback, e.g. `http://127.0.0.1:40123`; call it with `fetch`. */
  url: string;
  /** The DATA_DIR it runs on: pass it to another `startApp` to test a restart. */
  dataDir: string;
  /** Stops the site; removes DATA_DIR too when `startApp` made it. */
  stop(): Promise<void>;
}

/**
 * Starts the real site on a free loopback port (PORT and APP_ENV are set for you). Without
 * `dataDir` it runs on a fresh temporary DATA_DIR; with one it reuses it (kept on `stop`).
 */
export async function startApp(options: { dataDir?: string; env?: Record<string, string> } = {}): Promise<Site> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "web-app-acceptance-")));
  const app = buildApp(readConfig({ PORT: "0", APP_ENV: "test", DATA_DIR: dataDir, ...options.env }));
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    url,
    dataDir,
    async stop() {
      await app.close();
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * POSTs `fields` as a browser form (`application/x-www-form-urlencoded`) without following a
 * redirect: a stored form answers 303 with a `location` header, an invalid one 400 with the page.
 */
export function submitForm(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
}
