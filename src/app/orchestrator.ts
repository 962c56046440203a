import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Api, buildApi, buildProbeApi, type ProcessInfo } from "../api/index.js";
import { ensureAdminToken } from "../auth/index.js";
import { type Bus, openBus, type Subscription } from "../bus/index.js";
import type { ChatModule } from "../chat/index.js";
import { type Config, packageVersion, runtimeSettingDefaults } from "../config/index.js";
import { AppError, ProcessRole } from "../contracts/index.js";
import { ServerService } from "../deploy/index.js";
import { RUN_EVENTS_BUS_MAX_LEN, RUN_EVENTS_STREAM, RunJournal } from "../events/index.js";
import { ModelGateway, upstreamsFrom } from "../llm/index.js";
import {
  componentLogger,
  createLogger,
  createMetrics,
  followLogs,
  LOG_BUS_MAX_LEN,
  LOG_STREAM,
  type Logger,
  LogPublisher,
  LogRing,
  type Metrics,
  type SecretRedactor,
  startTracing,
  type Tracing,
  timedModelFetch,
} from "../observability/index.js";
import { Scheduler } from "../scheduler/index.js";
import {
  BotTokens,
  checkVaultKey,
  openVault,
  SecretsService,
  telegramBotApi,
  vaultKeySource,
} from "../secrets/index.js";
import { openStore, type Store } from "../store/index.js";
import { createToolRegistry } from "../tools/index.js";
import { BusWorkerClient, nodeOf, type WorkerService } from "../workers/index.js";
import type { EngineRole } from "./engine-role.js";
import { buildForge } from "./forge.js";
import { ephemeralInstanceId, InstanceHeartbeat, workersNodeId } from "./instance.js";
import { redactorFor } from "./redaction.js";
import type { WorkersRole } from "./workers-role.js";

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
  /** Where this process answers `/health` and `/metrics`: the API's URL, or its own port's. */
  readonly healthUrl: string;
  /** This process's heartbeat in the store: its instance id, what others know it by. */
  readonly instance: InstanceHeartbeat;
  /** This process's periodic jobs (heartbeat, sweeps, checks, recovery) and their state. */
  readonly scheduler: Scheduler;
  /**
   * The chat, in a process with the `chat` role (works on conversations: the PO, deliveries,
   * Telegram) or the `api` role (takes messages in by the web chat and Telegram's webhook).
   */
  readonly chat: ChatModule | null;
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
  bus: Bus;
  metrics: Metrics;
  logger: Logger;
  redactor: SecretRedactor;
}): ModelGateway {
  const logger = componentLogger(deps.logger, "llm-gateway");
  const upstreams = upstreamsFrom(deps.config.llm);
  return new ModelGateway({
    store: deps.store,
    journal: new RunJournal({ store: deps.store, bus: deps.bus, logger }),
    logger,
    metrics: deps.metrics,
    upstreams,
    // Each call to a provider is timed and its failures counted.
    fetch: timedModelFetch(fetch, { metrics: deps.metrics, upstreams }),
    // The process's redactor knows every model key and every vault value, by name.
    secrets: deps.redactor,
    timeoutMs: deps.config.llm.gatewayTimeoutMs,
  });
}

/** Listens on the configured port; a port in use is said plainly, with what to change. */
async function listen(api: Api, config: Config): Promise<string> {
  try {
    return await api.listen({ host: config.host, port: config.port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new AppError(
        "unavailable",
        "port_in_use",
        `port ${config.port} on ${config.host} is in use: give each orchestrator process on one machine its own ORCHESTRATOR_PORT`,
        { cause: error, details: [{ path: "ORCHESTRATOR_PORT", message: "in use by another process" }] },
      );
    }
    throw error;
  }
}

/** Where `up` and `serve` write the first admin token (mode 0600), so the CLI works without setup. */
export function adminTokenFile(dataDir: string): string {
  return join(dataDir, "admin.token");
}

/**
 * The composition root: reads the config, picks implementations (PGlite or PostgreSQL, in-process
 * bus or Redis Streams) and starts the requested roles. Each role's modules are imported only when
 * the process takes it: a role process starts (and restarts) without loading the others'.
 * `announce` receives the one-time admin token line; it is written to the terminal, never to the log.
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
  // Every process publishes its log lines (info and up, masked) for the API's Logs page.
  const logFeed = new LogPublisher();
  const logger = createLogger({ level: config.logLevel, redactor, feed: logFeed });
  const log = componentLogger(logger, "orchestrator");
  if (config.mode === "embedded") await mkdir(config.dataDir, { recursive: true });
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.mode === "embedded" ? config.dataDir : null,
    redactor,
  });
  const bus = openBus({
    redisUrl: config.redisUrl,
    logger: componentLogger(logger, "bus"),
    streamMaxLen: { [RUN_EVENTS_STREAM]: RUN_EVENTS_BUS_MAX_LEN, [LOG_STREAM]: LOG_BUS_MAX_LEN },
  });
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

  // What has started so far, so that a start failing halfway (a port in use, a bad setting) stops
  // it again instead of leaving a half-started process running behind its error.
  let listener: Api | null = null;
  let engine: EngineRole | null = null;
  let workers: WorkersRole | null = null;
  let instance: InstanceHeartbeat | null = null;
  let scheduler: Scheduler | null = null;
  let redactionRefresh: { stop(): Promise<void> } | null = null;
  let runMetrics: Subscription | null = null;
  let logTail: Subscription | null = null;
  let chat: ChatModule | null = null;
  let servers: ServerService | null = null;
  let tracing: Tracing | null = null;
  let stopping: Promise<void> | null = null;
  const stop = (deadlineMs = 10_000) => {
    stopping ??= (async () => {
      log.info("stopping");
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
      await Promise.race([listener?.close(), deadline]);
      // Conversations mid-turn keep their messages queued for the next start.
      await Promise.race([chat?.stop(deadlineMs / 4), deadline]);
      // No periodic job starts once the API is closed; running ones are aborted (leases released).
      await Promise.race([scheduler?.stop(deadlineMs / 4), deadline]);
      await Promise.race([engine?.stop(deadlineMs / 2), deadline]);
      // Server checks under way (a scheduler's, or an API call's) end before the store closes.
      await Promise.race([servers?.stop(), deadline]);
      await Promise.race([workers?.stop(), deadline]);
      await instance?.stop();
      await redactionRefresh?.stop();
      await runMetrics?.stop(deadlineMs / 2);
      await logFeed.stop();
      await logTail?.stop();
      await bus.close();
      await store.close();
      // Last: the spans of everything above are flushed to the collector.
      await tracing?.stop(deadlineMs / 4);
      log.info("stopped");
      logger.flush();
    })();
    return stopping;
  };
  try {
    // Secret values at rest: the key from the environment, else (embedded) a key file made once in
    // the data directory. A key other than the one the stored secrets were sealed with refuses the start,
    // before anything is written.
    const keySource = vaultKeySource({
      mode: config.mode,
      secretKey: config.deploy.secretKey,
      dataDir: config.dataDir,
    });
    const vault = await openVault(keySource, { sealedWith: (await store.vault.getCheck())?.keyId ?? null });
    await checkVaultKey(store, vault, keySource);
    log.info({ keyId: vault.keyId }, "vault key checked");
    // The API is where a person uses the token: its process issues the first one (and saves it in its
    // data directory), whichever process happens to reach an empty database first.
    const token = opts.roles.includes("api") ? await ensureAdminToken(store) : null;
    if (token) {
      redactor.add(token);
      opts.announce(`Admin token (shown once, keep it): ${token}`);
      // Saved where the CLI looks by default (its ORCHESTRATOR_DATA_DIR), by `up` and `serve` alike.
      const file = adminTokenFile(config.dataDir);
      await mkdir(config.dataDir, { recursive: true });
      await writeFile(file, `${token}\n`, { mode: 0o600 });
      await chmod(file, 0o600);
      opts.announce(
        config.mode === "embedded"
          ? `Also saved to ${file} (mode 0600) for the local CLI.`
          : `Also saved to ${file} (mode 0600): the CLI reads it with ORCHESTRATOR_DATA_DIR=${config.dataDir}, or set ORCHESTRATOR_TOKEN.`,
      );
    }

    const metrics = createMetrics({
      roles: opts.roles,
      onCollectError: (collector, err) => log.warn({ err, collector }, "a metrics collector failed"),
    });
    const demo = opts.demo === true;
    if (demo) {
      log.warn("demo mode: every agent is the scripted agent (no model); its code is canned, not generated");
      opts.announce(
        "Demo mode: agents are scripted (no model is called); the pipeline, git and tests are real.",
      );
    }
    // The forge FORGE names (local bare repositories, or GitHub), served to workers by the API.
    const forge = await buildForge(config);
    const secrets = new SecretsService({ store, vault, redactor });
    // Every secret stored so far is known before any role writes or answers; then what others store.
    const unreadable = (count: number) =>
      log.warn(
        { count },
        "secrets sealed with another vault key cannot be masked here; share ORCHESTRATOR_SECRET_KEY",
      );
    const { unreadable: unreadableAtStart } = await secrets.refreshRedactor();
    if (unreadableAtStart > 0) unreadable(unreadableAtStart);
    redactionRefresh = secrets.refreshRedactorEvery(config.secrets.refreshIntervalMs, {
      onError: (error) => log.warn({ err: error }, "could not refresh the known secrets"),
      onUnreadable: unreadable,
    });
    servers = new ServerService({ store, vault, logger: componentLogger(logger, "servers") });
    // Bot tokens are checked with the Bot API the deployed bots use; a filled token lets a deploy
    // blocked on it go on, whichever door filled it (a tool, the chat, the pool).
    const bots = new BotTokens({
      store,
      secrets,
      telegram: telegramBotApi(config.deploy.telegramApiRoot),
      logger: componentLogger(logger, "bots"),
      onFilled: async (projectId) => {
        const { resumeBlockedDeploy } = await import("../engine/index.js");
        await resumeBlockedDeploy({ store, bus, journal: new RunJournal({ store, bus, logger }) }, projectId);
      },
    });
    // A workers node keeps its id across restarts (its sandboxes do); other processes take a new one.
    instance = new InstanceHeartbeat({
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
    // Spans go to an OTLP collector only when OTEL_EXPORTER_OTLP_ENDPOINT names one.
    tracing = await startTracing({
      endpoint: config.tracing.endpoint,
      serviceName: config.tracing.serviceName,
      version: packageVersion(),
      roles: opts.roles,
      instanceId: instance.id,
      redactor,
    });
    if (tracing.isEnabled)
      log.info({ collector: new URL(config.tracing.endpoint ?? "").origin }, "tracing to an OTLP collector");
    // The one scheduler of this process: each role registers its own jobs; leases name this instance.
    scheduler = new Scheduler({
      holder: instance.id,
      leases: store.jobLeases,
      logger: componentLogger(logger, "scheduler"),
    });
    scheduler.add(instance.job());
    if (opts.roles.includes("workers")) {
      const { startWorkersRole } = await import("./workers-role.js");
      workers = await startWorkersRole({
        config,
        store,
        bus,
        logger,
        metrics,
        redactor,
        env: process.env,
        node: instance.id,
        scheduler,
      });
    }
    // In one process the manager itself; otherwise the workers role answers over the bus.
    const workerService: WorkerService | undefined =
      workers?.manager ??
      (config.redisUrl
        ? new BusWorkerClient(bus, {
            locate: async (id) => nodeOf(await store.workers.get(id)),
            liveness: { nodes: store.instances, logger: componentLogger(logger, "workers-client") },
          })
        : undefined);
    if (opts.roles.includes("engine")) {
      if (!workerService)
        throw new Error("the engine role needs the workers role or a shared bus (REDIS_URL)");
      const { startEngineRole } = await import("./engine-role.js");
      engine = await startEngineRole({
        config,
        store,
        bus,
        logger,
        workers: workerService,
        forge,
        demo,
        secrets,
        bots,
        vault,
        instance,
        scheduler,
        metrics,
      });
    }
    // Cluster-wide jobs: every scheduler process registers them, one at a time runs each.
    if (opts.roles.includes("scheduler")) {
      const { startSchedulerRole } = await import("./scheduler-role.js");
      const { jobs } = startSchedulerRole({ config, store, bus, logger, metrics, servers, scheduler });
      log.info({ jobs }, "cluster-wide jobs registered");
    }
    scheduler.start();

    const processInfo: ProcessInfo = {
      roles: opts.roles,
      instanceId: instance.id,
      checks: workers?.checks ?? {},
      jobs: () => scheduler?.state() ?? [],
    };
    const health = { store, bus, metrics, logger, version: packageVersion(), process: processInfo, redactor };
    let api: Api | null = null;
    let url: string | null = null;
    const tools = createToolRegistry();
    const hasApi = opts.roles.includes("api");
    // The chat's work runs with the `chat` role; the `api` role alone only takes messages in.
    if (hasApi || opts.roles.includes("chat")) {
      const { buildChatRole, localUrl } = await import("./chat-role.js");
      chat = buildChatRole({
        config,
        store,
        bus,
        tools,
        logger,
        metrics,
        holder: instance.id,
        demo,
        secrets,
        bots,
        servers,
        isWorking: opts.roles.includes("chat"),
        poApiUrl: hasApi ? config.workers.apiUrl : localUrl(config),
      });
    }
    if (hasApi) {
      const { CONSUMED_BUS_STREAMS, startMetricsFeeds } = await import("./metrics.js");
      const gateway = buildGateway({ config, store, bus, metrics, logger, redactor });
      // Run metrics (from the live run events) and the shared state are exported by the API.
      runMetrics = startMetricsFeeds({ metrics, store, bus, tools, logger });
      // The latest log entries of every process, as the Logs page shows them.
      const logs = new LogRing();
      const logsFollowed = followLogs({ bus, ring: logs });
      logTail = logsFollowed;
      await logsFollowed.ready;
      api = await buildApi({
        ...health,
        gateway,
        tools,
        ...(chat ? { chat: { web: chat.web, telegram: chat.telegram }, poTurns: chat.poTurns } : {}),
        workers: workerService,
        forge,
        secrets,
        bots,
        servers,
        web: config.web,
        runtimeDefaults: runtimeSettingDefaults(config),
        busStreams: CONSUMED_BUS_STREAMS,
        logs,
        tracing: { isEnabled: tracing.isEnabled, traceUrl: config.tracing.traceUrl },
      });
    }
    // Lines logged so far waited in the feed; from here they go to the bus (the API's ring is following).
    logFeed.attach(bus, { node: instance.id });
    // Without the API, the process still answers /health and /metrics on its port.
    // A chat process without the API serves its own CLI Product Owner's MCP endpoint.
    listener = api ?? buildProbeApi({ ...health, ...(chat ? { poTurns: chat.poTurns } : {}) });
    const listening = await listen(listener, config);
    if (api) url = listening;
    await instance.setProbeUrl(listening);
    // After the API listens: Telegram's webhook is one of its routes (and a CLI PO's MCP endpoint).
    await chat?.start();
    log.info({ url: listening }, api ? "API listening" : "health and metrics listening");

    return {
      config,
      store,
      bus,
      logger,
      redactor,
      api,
      url,
      healthUrl: listening,
      instance,
      scheduler,
      chat,
      stop,
    };
  } catch (error) {
    log.error({ err: error }, "start failed: stopping what had started");
    await stop();
    throw error;
  }
}
