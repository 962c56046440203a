import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { type Api, buildApi } from "../../src/api/index.js";
import { issueToken } from "../../src/auth/index.js";
import { type Bus, InProcessBus } from "../../src/bus/index.js";
import type { WebSettings } from "../../src/config/index.js";
import { ServerService, type ServerServiceOptions } from "../../src/deploy/index.js";
import { RunJournal } from "../../src/events/index.js";
import { LocalForge } from "../../src/git/index.js";
import { ModelGateway, type ProviderName, type Upstream } from "../../src/llm/index.js";
import { createLogger, createMetrics, SecretRedactor } from "../../src/observability/index.js";
import type { PoTurns } from "../../src/po/index.js";
import { SecretsService, Vault } from "../../src/secrets/index.js";
import type { Store } from "../../src/store/index.js";
import { createToolRegistry } from "../../src/tools/index.js";
import { openTestStore } from "./store.js";

/** An API on an in-memory PGlite store and an in-process bus, with an admin token, for tests. */
export interface ApiHarness {
  api: Api;
  store: Store;
  /** The bus the API publishes to (engine tests consume it). */
  bus: Bus;
  /** Secret values behind the `secret.*` tools (a random vault key per harness). */
  secrets: SecretsService;
  /** The vault behind `secrets` (and behind server keys, where `servers` is set). */
  vault: Vault;
  /** What the logger and the model gateway (`gateway` option) know as secrets, by name. */
  redactor: SecretRedactor;
  /** Deploy servers behind the `server.*` tools (`servers` option), else null. */
  servers: ServerService | null;
  adminToken: string;
  logLines: string[];
  /**
   * The local forge the API serves over git smart HTTP (`localForge: true`), its data directory
   * a temporary one removed on close; its clone URLs point at the listener when `listen` is set.
   */
  forge: LocalForge | null;
  close(): Promise<void>;
}

export interface ApiHarnessOptions {
  /** Listen on 127.0.0.1 at a free port (`url` is then set). */
  listen?: boolean;
  /** How often event streams look in the store for what the bus did not bring. */
  sseRepairIntervalMs?: number;
  /** How often the admin event stream reads the store's change marks. */
  adminChangePollMs?: number;
  /** Build the API with a `LocalForge` on a temporary data directory, so `/git/*` is served. */
  localForge?: boolean;
  /** Serve the `server.*` tools with a `ServerService` on the harness's store and vault. */
  servers?: Omit<ServerServiceOptions, "store" | "vault" | "logger">;
  /**
   * Serve the model gateway at `/llm/*`, forwarding to these upstreams (fakes of the providers)
   * and refusing requests that carry one of the named `knownSecrets`.
   */
  /** Serve the MCP endpoint of these Product Owner turns. */
  poTurns?: PoTurns;
  /** Web sign-in settings (session length, the cookie's Secure flag). */
  web?: WebSettings;
  /** Bus streams whose dead letters the dashboard counts. */
  busStreams?: readonly string[];
  gateway?: {
    upstreams: Partial<Record<ProviderName, Upstream>>;
    knownSecrets?: Record<string, string>;
    timeoutMs?: number;
  };
}

export async function startApiHarness(
  opts: ApiHarnessOptions = {},
): Promise<ApiHarness & { url: string | null }> {
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  // One redactor for the store and the secrets, as `up` wires them: what a secret's value reaches is
  // masked before it is kept.
  const redactor = new SecretRedactor();
  const store = await openTestStore({ redactor });
  const bus = new InProcessBus();
  const logger = createLogger({ level: "info", redactor, destination });
  const vault = new Vault(randomBytes(32));
  const secrets = new SecretsService({ store, vault, redactor });
  const servers = opts.servers ? new ServerService({ store, vault, logger, ...opts.servers }) : null;
  const dataDir = opts.localForge ? await mkdtemp(join(tmpdir(), "api-forge-")) : null;
  // The port is known only once listening: clone URLs of this forge are not used by the API itself.
  const apiForge = dataDir ? new LocalForge({ dataDir, baseUrl: "http://127.0.0.1" }) : null;
  const metrics = createMetrics();
  for (const [label, value] of Object.entries(opts.gateway?.knownSecrets ?? {})) redactor.add(value, label);
  const gateway = opts.gateway
    ? new ModelGateway({
        store,
        journal: new RunJournal({ store, bus, logger }),
        logger,
        metrics,
        upstreams: opts.gateway.upstreams,
        secrets: redactor,
        timeoutMs: opts.gateway.timeoutMs ?? 120_000,
      })
    : null;
  const api = await buildApi({
    store,
    bus,
    tools: createToolRegistry(),
    metrics,
    ...(gateway ? { gateway } : {}),
    logger,
    version: "test",
    secrets,
    ...(opts.sseRepairIntervalMs ? { sseRepairIntervalMs: opts.sseRepairIntervalMs } : {}),
    ...(opts.adminChangePollMs ? { adminChangePollMs: opts.adminChangePollMs } : {}),
    ...(servers ? { servers } : {}),
    ...(apiForge ? { forge: apiForge } : {}),
    ...(opts.poTurns ? { poTurns: opts.poTurns } : {}),
    ...(opts.web ? { web: opts.web } : {}),
    ...(opts.busStreams ? { busStreams: opts.busStreams } : {}),
  });
  const { token } = await issueToken(store, { name: "test-admin", kind: "admin" });
  const url = opts.listen ? await api.listen({ host: "127.0.0.1", port: 0 }) : null;
  // The same repositories, with clone URLs that reach the listener.
  const forge = dataDir && url ? new LocalForge({ dataDir, baseUrl: url }) : apiForge;
  return {
    api,
    store,
    bus,
    secrets,
    vault,
    servers,
    redactor,
    adminToken: token,
    logLines,
    forge,
    url,
    async close() {
      await servers?.stop();
      await api.close();
      await bus.close();
      await store.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
