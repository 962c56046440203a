import { z } from "zod";
import { ProcessRole } from "../../contracts/index.js";
import type { Api, ApiDeps, HealthDeps } from "../context.js";

const Health = z.object({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  /** The roles this process runs and its instance id (its heartbeat in the store). */
  roles: z.array(ProcessRole),
  instance: z.string().nullable(),
  checks: z.record(z.string(), z.string()),
  /** The scheduled jobs: a failing one shows here and does not make the process degraded. */
  jobs: z.array(
    z.object({
      name: z.string(),
      scope: z.enum(["leader", "every-process"]),
      intervalMs: z.number(),
      runs: z.number(),
      failures: z.number(),
      lastFinishedAt: z.string().nullable(),
      lastError: z.string().nullable(),
      isRunning: z.boolean(),
      isLeader: z.boolean(),
    }),
  ),
});

/**
 * `/health` (public) and `/metrics` (bearer token): what every process answers, the API on its
 * port and a process without the api role on its own (see `buildProbeApi`).
 */
export function registerHealthRoutes(app: Api, deps: HealthDeps): void {
  const probes: Record<string, () => Promise<unknown>> = {
    store: () => deps.store.ping(),
    bus: () => deps.bus.ping(),
    ...deps.process?.checks,
  };
  app.get(
    "/health",
    { config: { access: "public" }, schema: { tags: ["system"], response: { 200: Health, 503: Health } } },
    async (_req, reply) => {
      const checks: Record<string, string> = {};
      await Promise.all(
        Object.entries(probes).map(async ([name, probe]) => {
          try {
            await probe();
            checks[name] = "ok";
          } catch (error) {
            deps.logger.warn({ err: error, check: name }, `health: ${name} failed`);
            checks[name] = error instanceof Error ? `failed: ${error.message}`.slice(0, 300) : "failed";
          }
        }),
      );
      const ok = Object.values(checks).every((c) => c === "ok");
      return reply.code(ok ? 200 : 503).send({
        status: ok ? "ok" : "degraded",
        version: deps.version,
        roles: [...(deps.process?.roles ?? [])],
        instance: deps.process?.instanceId ?? null,
        checks,
        jobs: (deps.process?.jobs?.() ?? []).map((job) => ({
          name: job.name,
          scope: job.scope,
          intervalMs: job.intervalMs,
          runs: job.runs,
          failures: job.failures,
          lastFinishedAt: job.lastFinishedAt,
          lastError: job.lastError?.slice(0, 300) ?? null,
          isRunning: job.isRunning,
          isLeader: job.isLeader,
        })),
      });
    },
  );
  app.get("/metrics", { schema: { tags: ["system"], hide: true } }, async (_req, reply) => {
    reply.type("text/plain; version=0.0.4; charset=utf-8");
    return deps.metrics.render();
  });
}

/** Liveness, metrics and the OpenAPI document. */
export function registerSystemRoutes(app: Api, deps: ApiDeps): void {
  registerHealthRoutes(app, deps);
  app.get("/api/openapi.json", { schema: { tags: ["system"], hide: true } }, async () => app.swagger());
}
