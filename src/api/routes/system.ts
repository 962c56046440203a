import { z } from "zod";
import type { Api, ApiDeps } from "../context.js";

const Health = z.object({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  checks: z.record(z.string(), z.string()),
});

/** Liveness (public), Prometheus metrics and the OpenAPI document. */
export function registerSystemRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    "/health",
    { config: { access: "public" }, schema: { tags: ["system"], response: { 200: Health, 503: Health } } },
    async (_req, reply) => {
      const checks: Record<string, string> = {};
      try {
        await deps.store.ping();
        checks.store = "ok";
      } catch (error) {
        deps.logger.warn({ err: error }, "health: store unreachable");
        checks.store = "unreachable";
      }
      try {
        await deps.bus.ping();
        checks.bus = "ok";
      } catch (error) {
        deps.logger.warn({ err: error }, "health: bus unreachable");
        checks.bus = "unreachable";
      }
      const ok = Object.values(checks).every((c) => c === "ok");
      return reply
        .code(ok ? 200 : 503)
        .send({ status: ok ? "ok" : "degraded", version: deps.version, checks });
    },
  );
  app.get("/metrics", { schema: { tags: ["system"], hide: true } }, async (_req, reply) => {
    reply.type("text/plain; version=0.0.4; charset=utf-8");
    return deps.metrics.render();
  });
  app.get("/api/openapi.json", { schema: { tags: ["system"], hide: true } }, async () => app.swagger());
}
