import { DashboardSummary } from "../../contracts/index.js";
import { AdminChangeFeed } from "../admin-change-feed.js";
import type { Api, ApiDeps } from "../context.js";
import { openEventStream, SSE_REPAIR_INTERVAL_MS } from "../sse.js";

/** Failing deployments the dashboard lists at most. */
const FAILING_LIMIT = 10;
const DAY_MS = 24 * 3_600_000;

/** Midnight UTC of `now`'s day, and the first of its month. */
function periodStarts(now: Date): { today: string; week: string; month: string } {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return {
    today: new Date(today).toISOString(),
    week: new Date(now.getTime() - 7 * DAY_MS).toISOString(),
    month: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString(),
  };
}

/**
 * The admin dashboard's summary: projects by status, runs by kind and result (today, 7 days),
 * workers by state, spend today and this month, failing deployments and dead letters. Every figure
 * is one grouped query; nothing is cached, so what it shows is what the store holds now. The admin
 * pages learn when to read again from `/api/admin/events`.
 */
export function registerDashboardRoutes(app: Api, deps: ApiDeps): void {
  const { store, bus } = deps;
  const streams = deps.busStreams ?? [];
  app.get(
    "/api/admin/summary",
    { schema: { tags: ["admin"], response: { 200: DashboardSummary } } },
    async () => {
      const now = new Date();
      const since = periodStarts(now);
      const [projects, today, week, workers, spendToday, spendMonth, failing, backlogs] = await Promise.all([
        store.stats.projectsByStatus(),
        store.stats.runsByKindAndStatus(since.today),
        store.stats.runsByKindAndStatus(since.week),
        store.stats.workersByState(),
        store.stats.spendSince(since.today),
        store.stats.spendSince(since.month),
        store.stats.failingDeployments(since.week, FAILING_LIMIT),
        Promise.all(streams.map((stream) => bus.backlog(stream))),
      ]);
      return {
        generatedAt: now.toISOString(),
        projects,
        runs: { today, week },
        workers,
        spend: { today: spendToday, month: spendMonth },
        failingDeployments: failing,
        deadLetters: backlogs
          .filter((backlog) => backlog.deadLetters > 0)
          .map((backlog) => ({ stream: backlog.stream, count: backlog.deadLetters })),
      };
    },
  );

  // One feed for every admin page this process serves; streams end when the server closes.
  const feed = new AdminChangeFeed({
    store,
    bus,
    logger: deps.logger,
    ...(deps.adminChangePollMs ? { pollMs: deps.adminChangePollMs } : {}),
  });
  const openStreams = new Set<() => void>();
  app.addHook("onClose", async () => {
    for (const close of [...openStreams]) close();
    feed.close();
  });
  app.get("/api/admin/events", { schema: { tags: ["admin"] } }, (req, reply) => {
    const raw = openEventStream(reply, "changes for the admin pages");
    const following = feed.follow((topics) => {
      raw.write(`event: change\ndata: ${JSON.stringify({ topics })}\n\n`);
    });
    // From `ready` on every change is announced; sent again after a reconnect, it tells the page
    // to read what it may have missed.
    void following.ready.then(() => {
      if (openStreams.has(close)) raw.write("event: ready\ndata: {}\n\n");
    });
    const heartbeat = setInterval(() => raw.write(": still here\n\n"), SSE_REPAIR_INTERVAL_MS);
    const close = () => {
      if (!openStreams.delete(close)) return;
      clearInterval(heartbeat);
      following.stop();
      raw.end();
    };
    openStreams.add(close);
    req.raw.on("close", close);
  });
}
