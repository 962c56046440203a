import type { RoutePlugin } from "../validation.js";

/**
 * GET /health: the deploy's health check. It must answer 200 quickly without calling anything
 * outside the process; polled often, so it logs only warnings.
 */
export const healthRoutes: RoutePlugin<{ appEnv: string }> = async (app, { appEnv }) => {
  app.get("/health", { logLevel: "warn" }, async () => ({ status: "ok", env: appEnv }));
};
