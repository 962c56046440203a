import { z } from "zod";
import {
  AgentResult,
  AgentRole,
  Id,
  PageQuery,
  pageOf,
  type UsageTotals,
  Worker,
  WorkerState,
  WorkerUsage,
} from "../../contracts/index.js";
import type { Store } from "../../store/index.js";
import { CreateWorkerSpec, SendOptions, type WorkerService } from "../../workers/index.js";
import type { Api } from "../context.js";

const ById = z.object({ id: Id });
const WorkerStatus = Worker.extend({ hasSandbox: z.boolean(), isBusy: z.boolean() });

const NO_USAGE: UsageTotals = {
  calls: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: 0,
  estimatedCostUsd: 0,
};

/** Sums of two usage totals (cost rounded to a millionth of a dollar, as the rows are). */
function addUsage(a: UsageTotals, b: UsageTotals): UsageTotals {
  const usd = (x: number) => Math.round(x * 1_000_000) / 1_000_000;
  return {
    calls: a.calls + b.calls,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    costUsd: usd(a.costUsd + b.costUsd),
    estimatedCostUsd: usd(a.estimatedCostUsd + b.estimatedCostUsd),
  };
}

/**
 * Workers over HTTP (admin): list (by project, state, role), create, send a turn, pause, resume,
 * terminate, status, logs, and what a worker used (context size, tokens and cost, from the store).
 */
export function registerWorkerRoutes(app: Api, workers: WorkerService, store: Store): void {
  const ListQuery = PageQuery.extend({
    projectId: Id.optional(),
    state: WorkerState.optional(),
    role: AgentRole.optional(),
  });
  app.get(
    "/api/workers",
    { schema: { tags: ["workers"], querystring: ListQuery, response: { 200: pageOf(Worker) } } },
    (req) => workers.list(req.query),
  );
  app.post(
    "/api/workers",
    { schema: { tags: ["workers"], body: CreateWorkerSpec, response: { 201: Worker } } },
    async (req, reply) => reply.code(201).send(await workers.create(req.body)),
  );
  app.get(
    "/api/workers/:id",
    { schema: { tags: ["workers"], params: ById, response: { 200: WorkerStatus } } },
    (req) => workers.status(req.params.id),
  );
  app.get(
    "/api/workers/:id/usage",
    { schema: { tags: ["workers"], params: ById, response: { 200: WorkerUsage } } },
    async (req) => {
      const worker = await store.workers.get(req.params.id);
      const rows = await store.tokenUsage.summarize({ workerId: worker.id });
      const byModel = rows.map(({ workerId: _, ...row }) => row);
      return {
        workerId: worker.id,
        contextTokens: worker.contextTokens,
        total: byModel.reduce<UsageTotals>((sum, row) => addUsage(sum, row), NO_USAGE),
        byModel,
      };
    },
  );
  app.post(
    "/api/workers/:id/messages",
    {
      schema: {
        tags: ["workers"],
        params: ById,
        body: z.object({ message: z.string().trim().min(1).max(200_000), options: SendOptions.optional() }),
        response: { 200: AgentResult },
      },
    },
    (req) => workers.send(req.params.id, req.body.message, req.body.options),
  );
  app.post(
    "/api/workers/:id/pause",
    { schema: { tags: ["workers"], params: ById, response: { 200: Worker } } },
    (req) => workers.pause(req.params.id),
  );
  app.post(
    "/api/workers/:id/resume",
    { schema: { tags: ["workers"], params: ById, response: { 200: Worker } } },
    (req) => workers.resume(req.params.id),
  );
  app.delete(
    "/api/workers/:id",
    { schema: { tags: ["workers"], params: ById, response: { 200: Worker } } },
    (req) => workers.terminate(req.params.id, "terminated through the API"),
  );
  app.get(
    "/api/workers/:id/logs",
    {
      schema: {
        tags: ["workers"],
        params: ById,
        querystring: z.object({ lines: z.coerce.number().int().min(1).max(5000).default(200) }),
        response: { 200: z.object({ lines: z.array(z.string()) }) },
      },
    },
    async (req) => {
      await workers.status(req.params.id);
      return { lines: await workers.logs(req.params.id, req.query.lines) };
    },
  );
}
