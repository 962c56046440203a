import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Api, buildApi } from "../api/index.js";
import { ensureAdminToken } from "../auth/index.js";
import { type Bus, openBus } from "../bus/index.js";
import type { Config } from "../config/index.js";
import { ProcessRole } from "../contracts/index.js";
import { ServerService } from "../deploy/servers/index.js";
import { LocalForge } from "../git/index.js";
import { ModelGateway, upstreamsFrom } from "../llm/index.js";
import {
  componentLogger,
  createLogger,
  createMetrics,
  type Logger,
  type Metrics,
  type SecretRedactor,
} from "../observability/index.js";
import { SecretsService, Vault } from "../secrets/index.js";
import { openStore, type Store } from "../store/index.js";
import { createToolRegistry } from "../tools/index.js";
import { BusWorkerClient, nodeOf, type WorkerService } from "../workers/index.js";
import { type EngineRole, startEngineRole } from "./engine-role.js";
import { ephemeralInstanceId, InstanceHeartbeat, workersNodeId } from "./instance.js";
import { redactorFor } from "./redaction.js";
import { packageVersion } from "./version.js";
import { startWorkersRole, type WorkersRole } from "./workers-role.js";

/** Roles a process can take; `up` takes them all. */
export const ROLES = ProcessRole.options;
export type Role = ProcessRole;

export interface Orchestrator {
  readonly config: Config;
  readonly store: Store;
  readonly bus: Bus;
  readonly logger: Logger;
  /**
   * The one redactor of this process: masks every secret it knows in log lines, in everything the
   * store writes and in every API answer. It learns the config's keys at start, the vault's values
   * at start and then every `SECRETS_REFRESH_INTERVAL` (at once for values set here).
   */
  readonly redactor: SecretRedactor;
  readonly api: Api | null;
  /** The URL the API listens on, when this process has the `api` role. */
  readonly url: string | null;
  /** This process's heartbeat in the store: its instance id, what others know it by. */
  readonly instance: InstanceHeartbeat;
  /** Stops every part within the deadline, API first so no new work arrives. */
  stop(deadlineMs?: number): Promise<void>;
}

/**
 * The model gateway of an `api` process: it alone holds the model keys. It refuses requests that
 * carry one of them (or another known secret) instead of forwarding them.
 */
function buildGateway(deps: {
  config: Config;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  redactor: SecretRedactor;
}): ModelGateway {
  return new ModelGateway({
    store: deps.store,
    logger: componentLogger(deps.logger, "llm-gateway"),
    metrics: deps.metrics,
    upstreams: upstreamsFrom(deps.config.llm),
    // The process's redactor knows every model key and every vault value, by name.
    secrets: deps.redactor,
    timeoutMs: deps.config.llm.gatewayTimeoutMs,
  });
}

/** Where `up` writes the first admin token (mode 0600) so the local CLI works without setup. */
export function adminTokenFile(dataDir: string): string {
  return join(dataDir, "admin.token");
}

/**
 * The composition root: reads the config, picks implementations (PGlite or PostgreSQL, in-process
 * bus or Redis Streams) and starts the requested roles. `announce` receives the one-time admin
 * token line; it is written to the terminal, never to the log.
 */
export async function startOrchestrator(
  config: Config,
  opts: {
    roles: readonly Role[];
    announce: (line: string) => void;
    /** `up --demo`: agents are the scripted one (no model keys needed), said plainly in logs. */
    demo?: boolean;
  },
): Promise<Orchestrator> {
  const redactor = redactorFor(config);
  const logger = createLogger({ level: config.logLevel, redactor });
  const log = componentLogger(logger, "orchestrator");
  if (config.mode === "embedded") await mkdir(config.dataDir, { recursive: true });
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.mode === "embedded" ? config.dataDir : null,
    redactor,
  });
  const bus = openBus({ redisUrl: config.redisUrl, logger: componentLogger(logger, "bus") });
  await bus.ping();
  log.info(
    {
      mode: config.mode,
      store: store.driver,
      bus: config.redisUrl ? "redis" : "in-process",
      roles: opts.roles,
    },
    "starting",
  );

  const token = await ensureAdminToken(store);
  if (token) {
    redactor.add(token);
    opts.announce(`Admin token (shown once, keep it): ${token}`);
    if (config.mode === "embedded") {
      const file = adminTokenFile(config.dataDir);
      await writeFile(file, `${token}\n`, { mode: 0o600 });
      await chmod(file, 0o600);
      opts.announce(`Also saved to ${file} (mode 0600) for the local CLI.`);
    }
  }

  const metrics = createMetrics();
  const demo = opts.demo === true;
  if (demo) {
    log.warn("demo mode: every agent is the scripted agent (no model); its code is canned, not generated");
    opts.announce(
      "Demo mode: agents are scripted (no model is called); the pipeline, git and tests are real.",
    );
  }
  // The embedded forge: bare repositories in the data directory, served to workers by the API.
  const forge = new LocalForge({ dataDir: config.dataDir, baseUrl: config.workers.apiUrl });
  // Secret values at rest: the key from the environment, else a key file made once in the data directory.
  const vault = config.deploy.secretKey
    ? Vault.fromBase64(config.deploy.secretKey)
    : await Vault.fromKeyFile(join(config.dataDir, "secret.key"));
  const secrets = new SecretsService({ store, vault, redactor });
  // Every secret stored so far is known before any role writes or answers; then what others store.
  const unreadable = (count: number) =>
    log.warn(
      { count },
      "secrets sealed with another vault key cannot be masked here; share ORCHESTRATOR_SECRET_KEY",
    );
  const { unreadable: unreadableAtStart } = await secrets.refreshRedactor();
  if (unreadableAtStart > 0) unreadable(unreadableAtStart);
  const redactionRefresh = secrets.refreshRedactorEvery(config.secrets.refreshIntervalMs, {
    onError: (error) => log.warn({ err: error }, "could not refresh the known secrets"),
    onUnreadable: unreadable,
  });
  const servers = new ServerService({ store, vault, logger: componentLogger(logger, "servers") });
  // A workers node keeps its id across restarts (its sandboxes do); other processes take a new one.
  const instance = new InstanceHeartbeat({
    store,
    id: opts.roles.includes("workers")
      ? (config.workers.node ?? (await workersNodeId(config.dataDir)))
      : ephemeralInstanceId(opts.roles),
    roles: opts.roles,
    ttlMs: config.instanceTtlMs,
    logger: log,
  });
  await instance.start();
  log.info({ instance: instance.id }, "heartbeat started");
  let workers: WorkersRole | null = null;
  if (opts.roles.includes("workers")) {
    workers = await startWorkersRole({
      config,
      store,
      bus,
      logger,
      metrics,
      redactor,
      env: process.env,
      node: instance.id,
    });
  }
  // In one process the manager itself; otherwise the workers role answers over the bus.
  const workerService: WorkerService | undefined =
    workers?.manager ??
    (config.redisUrl
      ? new BusWorkerClient(bus, { locate: async (id) => nodeOf(await store.workers.get(id)) })
      : undefined);
  let engine: EngineRole | null = null;
  if (opts.roles.includes("engine")) {
    if (!workerService) throw new Error("the engine role needs the workers role or a shared bus (REDIS_URL)");
    engine = await startEngineRole({
      config,
      store,
      bus,
      logger,
      workers: workerService,
      forge,
      demo,
      secrets,
      vault,
      servers,
    });
  }

  let api: Api | null = null;
  let url: string | null = null;
  if (opts.roles.includes("api")) {
    const gateway = buildGateway({ config, store, metrics, logger, redactor });
    api = await buildApi({
      gateway,
      store,
      bus,
      tools: createToolRegistry(),
      metrics,
      logger,
      version: packageVersion(),
      workers: workerService,
      forge,
      secrets,
      servers,
      redactor,
    });
    url = await api.listen({ host: config.host, port: config.port });
    log.info({ url }, "API listening");
  }

  let stopping: Promise<void> | null = null;
  const stop = (deadlineMs = 10_000) => {
    stopping ??= (async () => {
      log.info("stopping");
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
      await Promise.race([api?.close(), deadline]);
      await Promise.race([engine?.stop(deadlineMs / 2), deadline]);
      await Promise.race([workers?.stop(), deadline]);
      await instance.stop();
      await redactionRefresh.stop();
      await bus.close();
      await store.close();
      log.info("stopped");
      logger.flush();
    })();
    return stopping;
  };
  return { config, store, bus, logger, redactor, api, url, instance, stop };
}
