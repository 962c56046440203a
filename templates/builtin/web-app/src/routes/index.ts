import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../app.js";
import type { Config } from "../config.js";
import { contactRoutes } from "./contact.js";
import { healthRoutes } from "./health.js";
import { homeRoutes } from "./home.js";
import { messagesRoutes } from "./messages.js";

/** Every route of the site. Add a new file under src/routes/ and register it here. */
export function registerRoutes(app: FastifyInstance, config: Config, deps: AppDeps): void {
  healthRoutes(app, config);
  homeRoutes(app);
  contactRoutes(app, deps);
  messagesRoutes(app, deps);
}
