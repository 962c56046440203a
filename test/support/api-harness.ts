import { Writable } from "node:stream";
import { type Api, buildApi } from "../../src/api/index.js";
import { issueToken } from "../../src/auth/index.js";
import { InProcessBus } from "../../src/bus/index.js";
import { createLogger, createMetrics, SecretRedactor } from "../../src/observability/index.js";
import { openPgliteStore, type Store } from "../../src/store/index.js";
import { createToolRegistry } from "../../src/tools/index.js";

/** An API on an in-memory PGlite store and an in-process bus, with an admin token, for tests. */
export interface ApiHarness {
  api: Api;
  store: Store;
  adminToken: string;
  logLines: string[];
  close(): Promise<void>;
}

export async function startApiHarness(
  opts: { listen?: boolean } = {},
): Promise<ApiHarness & { url: string | null }> {
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const store = await openPgliteStore(null);
  const bus = new InProcessBus();
  const logger = createLogger({ level: "info", redactor: new SecretRedactor(), destination });
  const api = await buildApi({
    store,
    bus,
    tools: createToolRegistry(),
    metrics: createMetrics(),
    logger,
    version: "test",
    ssePollMs: 20,
  });
  const { token } = await issueToken(store, { name: "test-admin", kind: "admin" });
  const url = opts.listen ? await api.listen({ host: "127.0.0.1", port: 0 }) : null;
  return {
    api,
    store,
    adminToken: token,
    logLines,
    url,
    async close() {
      await api.close();
      await bus.close();
      await store.close();
    },
  };
}
