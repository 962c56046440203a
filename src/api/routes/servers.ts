import { z } from "zod";
import {
  AppError,
  Id,
  PageQuery,
  pageOf,
  Server,
  ServerCheck,
  ServerRegisterInput,
} from "../../contracts/index.js";
import type { ServerService } from "../../deploy/index.js";
import type { Api, ApiDeps } from "../context.js";

const ById = z.object({ id: Id });
const RemoveQuery = z.object({
  force: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
});

/**
 * Deploy servers over REST (admin), the same operations as the `server.*` tools: registering
 * stores the key sealed in the vault and checks the server at once; check; remove.
 */
export function registerServerRoutes(app: Api, { store, servers }: ApiDeps): void {
  const service = (): ServerService => {
    if (!servers)
      throw new AppError("unavailable", "servers_unavailable", "server management is not available here");
    return servers;
  };
  app.get(
    "/api/servers",
    { schema: { tags: ["servers"], querystring: PageQuery, response: { 200: pageOf(Server) } } },
    (req) => store.servers.list(req.query),
  );
  app.post(
    "/api/servers",
    { schema: { tags: ["servers"], body: ServerRegisterInput, response: { 201: ServerCheck } } },
    async (req, reply) => {
      const registered = await service().register(req.body);
      return reply.code(201).send(await service().check(registered.id));
    },
  );
  app.get(
    "/api/servers/:id",
    { schema: { tags: ["servers"], params: ById, response: { 200: Server } } },
    (req) => store.servers.get(req.params.id),
  );
  app.post(
    "/api/servers/:id/check",
    { schema: { tags: ["servers"], params: ById, response: { 200: ServerCheck } } },
    (req) => service().check(req.params.id),
  );
  app.delete(
    "/api/servers/:id",
    { schema: { tags: ["servers"], params: ById, querystring: RemoveQuery, response: { 200: Server } } },
    (req) => service().remove(req.params.id, { force: req.query.force }),
  );
}
