import type { Bus, TailSubscription } from "../bus/index.js";
import { CHAT_QUEUED_STREAM } from "../chat/index.js";
import { type Principal, ProjectStatusList, RunKind, runStream } from "../contracts/index.js";
import { RUN_EVENTS_STREAM } from "../events/index.js";
import {
  busBacklogCollector,
  componentLogger,
  type DeployedService,
  deployedServicesCollector,
  followRunEvents,
  type Logger,
  type Metrics,
  runsInProgressCollector,
  workersCollector,
} from "../observability/index.js";
import type { Store } from "../store/index.js";
import { type ToolRegistry, type ToolServices, toolContextFor } from "../tools/index.js";
import { WORKER_RPC_STREAM } from "../workers/index.js";

/**
 * The bus streams consumer groups read (run triggers per kind, run events, worker calls, queued
 * chat turns): their backlog is exported, and their old dead letters collected (`gc.dead-letters`).
 */
export const CONSUMED_BUS_STREAMS: readonly string[] = [
  ...RunKind.options.map(runStream),
  RUN_EVENTS_STREAM,
  WORKER_RPC_STREAM,
  CHAT_QUEUED_STREAM,
];

/** Deployed services are judged at most this often (each verdict reads several records). */
const DEPLOYED_SERVICES_EVERY_MS = 15_000;
/** Healthy deployments read per page when finding the deployed projects. */
const PAGE = 200;

/**
 * The metrics a process with the `api` role exports beside its own counters: the run metrics from
 * the live run events, and the shared state (runs under way, workers, the bus backlog, deployed
 * services) read at each scrape. One role only, so a Prometheus scraping every process sees each
 * of these once. `stop` ends the run events tail and removes the collectors.
 */
export function startMetricsFeeds(deps: {
  metrics: Metrics;
  store: Store;
  bus: Bus;
  tools: ToolRegistry;
  logger: Logger;
  /** Judge deployed services at most this often (default 15 s; 0 for every scrape). */
  deployedServicesEveryMs?: number;
}): TailSubscription {
  const { metrics, store, bus, tools } = deps;
  const logger = componentLogger(deps.logger, "metrics");
  const runEvents = followRunEvents({
    metrics,
    bus,
    stream: RUN_EVENTS_STREAM,
    runKind: async (runId) => (await store.runs.get(runId)).kind,
    logger,
  });
  const removers = [
    metrics.addCollector(runsInProgressCollector(metrics, store)),
    metrics.addCollector(workersCollector(metrics, store)),
    metrics.addCollector(busBacklogCollector(metrics, bus, CONSUMED_BUS_STREAMS)),
    metrics.addCollector(
      deployedServicesCollector(metrics, () => deployedServices({ store, bus, logger }, tools), {
        minIntervalMs: deps.deployedServicesEveryMs ?? DEPLOYED_SERVICES_EVERY_MS,
      }),
    ),
  ];
  return {
    ready: runEvents.ready,
    async stop(deadlineMs) {
      for (const remove of removers) remove();
      await runEvents.stop(deadlineMs);
    },
  };
}

/** Whom the metrics read project health as: an admin, so every project is seen. */
const METRICS_READER: Principal = { kind: "admin", tokenId: "metrics" };

/**
 * Every project with a release that should serve (a `healthy` deployment), judged as
 * `project.status` judges it for a person: from the recorded checks, never a guess.
 */
async function deployedServices(services: ToolServices, tools: ToolRegistry): Promise<DeployedService[]> {
  const projectIds = new Set<string>();
  for (let offset = 0; ; offset += PAGE) {
    const page = await services.store.deployments.list({ status: "healthy", limit: PAGE, offset });
    for (const deployment of page.items) projectIds.add(deployment.projectId);
    if (offset + PAGE >= page.total) break;
  }
  const ctx = toolContextFor(METRICS_READER, services, { tool: "project.status" });
  const out: DeployedService[] = [];
  for (const projectId of projectIds) {
    const { items } = ProjectStatusList.parse(await tools.invoke("project.status", { projectId }, ctx));
    for (const report of items) {
      if (report.health.state !== "none") out.push({ project: report.slug, state: report.health.state });
    }
  }
  return out.sort((a, b) => a.project.localeCompare(b.project));
}
