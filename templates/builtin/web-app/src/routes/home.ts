import type { FastifyInstance } from "fastify";
import { homePage } from "../views/home.js";
import { sendPage } from "../views/layout.js";

export function homeRoutes(app: FastifyInstance): void {
  app.get("/", async (_request, reply) => sendPage(reply, homePage()));
}
