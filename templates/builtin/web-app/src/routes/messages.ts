import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../app.js";
import { sendPage } from "../views/layout.js";
import { messagesPage } from "../views/messages.js";

/** GET /messages: the list of submissions (public: add a login before keeping anything private). */
export function messagesRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get("/messages", async (_request, reply) => sendPage(reply, messagesPage(await deps.messages.list())));
}
