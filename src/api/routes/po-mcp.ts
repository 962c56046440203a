import { AppError } from "../../contracts/index.js";
import { PO_MCP_PATH, type PoTurns } from "../../po/index.js";
import { bearerOf } from "../auth.js";
import type { Api } from "../context.js";

/**
 * The MCP endpoint (Streamable HTTP, stateless, JSON answers) of a Product Owner turn that runs in
 * a CLI agent. Public to the API's token check: the bearer is the turn's own secret, valid only
 * while that turn runs, and it reaches that turn's tools as that turn's person.
 */
export function registerPoMcpRoutes(app: Api, turns: PoTurns): void {
  app.post(PO_MCP_PATH, { config: { access: "public" }, schema: { hide: true } }, async (req, reply) => {
    const toolbox = turns.find(bearerOf(req.headers.authorization));
    if (!toolbox) {
      throw new AppError("unauthorized", "unauthorized", "no Product Owner turn holds this bearer secret");
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string") headers.set(name, value);
    }
    const request = new Request(`http://mcp.local${PO_MCP_PATH}`, {
      method: "POST",
      headers,
      body: JSON.stringify(req.body ?? null),
    });
    const answer = await turns.answer(toolbox, request, req.body);
    reply.code(answer.status);
    if (answer.contentType) reply.header("content-type", answer.contentType);
    return answer.body;
  });
  // The stateless endpoint keeps no stream to resume and no session to end.
  for (const method of ["GET", "DELETE"] as const) {
    app.route({
      method,
      url: PO_MCP_PATH,
      config: { access: "public" },
      schema: { hide: true },
      handler: async (_req, reply) => {
        reply.code(405).header("allow", "POST");
        return {
          error: { code: "method_not_allowed", message: `${method} is not served here; POST`, details: [] },
        };
      },
    });
  }
}
