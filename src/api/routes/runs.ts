import { z } from "zod";
import { Id, PageQuery, pageOf, Run, RunEvent, RunKind, RunStatus, Worker } from "../../contracts/index.js";
import { assertProject } from "../../tools/index.js";
import { type Api, type ApiDeps, principalOf } from "../context.js";
import { RunEventFeed } from "../run-event-feed.js";
import { streamRunEvents } from "../sse.js";

const ById = z.object({ id: Id });
const EventQuery = z.object({
  afterSeq: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

/** Workers of a project read per page while looking for a run's own. */
const RUN_WORKERS_PAGE = 200;

/** Runs, their events and workers (read-only: runs are created by pipelines, not by hand). */
export function registerRunRoutes(app: Api, deps: ApiDeps): void {
  const { store } = deps;
  // Open event streams, ended when the server closes so shutdown never waits on a client.
  const openStreams = new Set<() => void>();
  // One tail on the run events for every stream of this process, started with the first.
  const feed = new RunEventFeed(deps.bus);
  app.addHook("onClose", async () => {
    for (const close of [...openStreams]) close();
    await feed.close();
  });
  const RunQuery = PageQuery.extend({
    projectId: Id.optional(),
    kind: RunKind.optional(),
    status: RunStatus.optional(),
  });
  app.get(
    "/api/runs",
    { schema: { tags: ["runs"], querystring: RunQuery, response: { 200: pageOf(Run) } } },
    (req) => store.runs.list(req.query),
  );
  app.get("/api/runs/:id", { schema: { tags: ["runs"], params: ById, response: { 200: Run } } }, (req) =>
    store.runs.get(req.params.id),
  );
  app.get(
    "/api/runs/:id/events",
    {
      schema: {
        tags: ["runs"],
        params: ById,
        querystring: EventQuery,
        response: { 200: z.object({ items: z.array(RunEvent) }) },
      },
    },
    async (req) => {
      await store.runs.get(req.params.id);
      return { items: await store.runEvents.list(req.params.id, req.query) };
    },
  );
  // The workers a run started (any state), oldest first: read from the store, so it answers on any
  // API role, with or without a workers service of its own.
  app.get(
    "/api/runs/:id/workers",
    { schema: { tags: ["runs"], params: ById, response: { 200: z.object({ items: z.array(Worker) }) } } },
    async (req) => {
      const run = await store.runs.get(req.params.id);
      const items: Worker[] = [];
      for (let offset = 0; ; offset += RUN_WORKERS_PAGE) {
        const page = await store.workers.list({ projectId: run.projectId, limit: RUN_WORKERS_PAGE, offset });
        items.push(...page.items.filter((w) => w.runId === run.id));
        if (offset + RUN_WORKERS_PAGE >= page.total) break;
      }
      return { items: items.reverse() };
    },
  );
  // Workers and users may follow the runs of their own projects, so this route takes any valid token.
  app.get(
    "/api/runs/:id/events/stream",
    {
      config: { access: "token" },
      schema: { tags: ["runs"], params: ById, querystring: EventQuery.pick({ afterSeq: true }) },
    },
    async (req, reply) => {
      const run = await store.runs.get(req.params.id);
      await assertProject({ principal: principalOf(req), store }, run.projectId);
      const lastEventId = Number(req.headers["last-event-id"]);
      const afterSeq = Number.isInteger(lastEventId) && lastEventId > 0 ? lastEventId : req.query.afterSeq;
      streamRunEvents(req, reply, {
        store,
        feed,
        runId: run.id,
        afterSeq,
        openStreams,
        ...(deps.sseRepairIntervalMs ? { repairIntervalMs: deps.sseRepairIntervalMs } : {}),
      });
    },
  );
}
