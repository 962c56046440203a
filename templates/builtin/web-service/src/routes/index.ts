import type { FastifyInstance } from "fastify";
import type { Config } from "../config.js";
import type { Note } from "../notes.js";
import type { JsonStore } from "../store.js";
import { apiRoutes } from "./api.js";
import { healthRoutes } from "./health.js";
import { pageRoutes } from "./pages.js";

/** What routes may use, built once by `buildApp`. Add shared clients and stores here. */
export interface RouteDeps {
  notes: JsonStore<Note>;
}

/** The one place every route plugin is registered: add a new file of `src/routes/` here. */
export function registerRoutes(app: FastifyInstance, config: Config, deps: RouteDeps): void {
  app.register(healthRoutes, { appEnv: config.appEnv });
  app.register(apiRoutes, { prefix: "/api", notes: deps.notes });
  app.register(pageRoutes, { notes: deps.notes });
}
