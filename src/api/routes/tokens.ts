import { z } from "zod";
import { ApiToken, ApiTokenCreate, Id } from "../../contracts/index.js";
import type { Api, ApiDeps } from "../context.js";
import { invokeFor } from "./tools.js";

/**
 * Admin management of API tokens through the `token.*` tools. The token value appears once, in the
 * creation response.
 */
export function registerTokenRoutes(app: Api, deps: ApiDeps): void {
  const { store } = deps;
  app.get(
    "/api/tokens",
    { schema: { tags: ["tokens"], response: { 200: z.object({ items: z.array(ApiToken) }) } } },
    async () => ({
      items: await store.apiTokens.list(),
    }),
  );
  app.post(
    "/api/tokens",
    {
      schema: {
        tags: ["tokens"],
        body: ApiTokenCreate,
        response: { 201: z.object({ token: z.string(), record: ApiToken }) },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(await invokeFor<{ token: string; record: ApiToken }>(deps, req, "token.create", req.body)),
  );
  app.delete(
    "/api/tokens/:id",
    { schema: { tags: ["tokens"], params: z.object({ id: Id }), response: { 200: ApiToken } } },
    (req) => invokeFor<ApiToken>(deps, req, "token.revoke", { id: req.params.id }),
  );
}
