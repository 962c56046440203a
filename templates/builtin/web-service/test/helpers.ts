import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../src/app.js";
import { readConfig } from "../src/config.js";

/** A built (not listening) app on its own DATA_DIR, with its log lines collected. */
export interface TestApp {
  app: FastifyInstance;
  dataDir: string;
  /** Parsed JSON log lines written so far. */
  logs: Array<{ level: number; msg?: string; [key: string]: unknown }>;
  /** Closes the app; removes DATA_DIR unless `keepData`. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

/** Builds the app for one test: a new temp DATA_DIR unless `dataDir` is given; `extend` may add test-only routes. */
export async function testApp(
  options: { dataDir?: string; extend?: (app: FastifyInstance) => void } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "service-test-")));
  const logs: TestApp["logs"] = [];
  const app = buildApp(readConfig({ PORT: "0", APP_ENV: "test", LOG_LEVEL: "info", DATA_DIR: dataDir }), {
    logStream: { write: (line) => logs.push(JSON.parse(line)) },
  });
  options.extend?.(app);
  await app.ready();
  return {
    app,
    dataDir,
    logs,
    async close({ keepData = false } = {}) {
      await app.close();
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Sends `text` as is over TCP and resolves with everything the server answered before closing. */
export function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(text));
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(answer));
    socket.setTimeout(5_000, () => socket.destroy(new Error("no answer within 5 s")));
  });
}
