import type { AddressInfo } from "node:net";
import { createApp } from "../../src/app.js";
import { readConfig } from "../../src/config.js";

/** The service running for one acceptance test file. */
export interface Service {
  /** Base URL on loopback, e.g. `http://127.0.0.1:40123`; call it with `fetch`. */
  url: string;
  stop(): Promise<void>;
}

/** Starts the real service on a free loopback port with `env` (PORT and APP_ENV are set for you). */
export async function startService(env: Record<string, string> = {}): Promise<Service> {
  const server = createApp(readConfig({ PORT: "0", APP_ENV: "test", ...env }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
