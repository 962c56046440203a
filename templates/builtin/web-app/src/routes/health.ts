import type { FastifyInstance } from "fastify";
import type { Config } from "../config.js";

/** GET /health: the deploy's health check calls it and expects 200. Keep it cheap and keep it. */
export function healthRoutes(app: FastifyInstance, config: Config): void {
  app.get("/health", async () => ({ status: "ok", env: config.appEnv }));
}
