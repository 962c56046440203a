import { z } from "zod";
import { AgentResult, Id, PageQuery, pageOf, Worker, WorkerState } from "../../contracts/index.js";
import { CreateWorkerSpec, SendOptions, type WorkerService } from "../../workers/index.js";
import type { Api } from "../context.js";

const ById = z.object({ id: Id });
const WorkerStatus = Worker.extend({ hasSandbox: z.boolean(), isBusy: z.boolean() });

/** Workers over HTTP (admin): create, send a turn, pause, resume, terminate, status, logs. */
export function registerWorkerRoutes(app: Api, workers: WorkerService): void {
  const ListQuery = PageQuery.extend({ projectId: Id.optional(), state: WorkerState.optional() });
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
