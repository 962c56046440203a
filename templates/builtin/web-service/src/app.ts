import formbody from "@fastify/formbody";
import fastifyStatic from "@fastify/static";
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import type { Config } from "./config.js";
import { openNotes } from "./notes.js";
import { PUBLIC_DIR } from "./paths.js";
import { type RouteDeps, registerRoutes } from "./routes/index.js";
import { RequestValidationError, zodValidatorCompiler } from "./validation.js";

/** What `buildApp` may be given instead of its defaults (tests pass their own). */
export interface AppDeps extends Partial<RouteDeps> {
  /** Where log lines go (a pino destination: anything with `write(line)`); stdout by default. */
  logStream?: { write(line: string): void };
}

/**
 * Builds the service without listening: plugins, routes, error and not-found handlers. Tests call
 * `app.inject(...)`; `main.ts` calls `app.listen(...)`. Every error becomes a JSON answer: a
 * rejected request 4xx (validation: 400 with `details`), anything else 500 with a log line.
 */
export function buildApp(config: Config, deps: AppDeps = {}): FastifyInstance {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(deps.logStream ? { stream: deps.logStream } : {}),
    },
    // Closing: idle keep-alive connections are dropped, new requests answered 503.
    forceCloseConnections: "idle",
    requestTimeout: 30_000,
  });
  app.setValidatorCompiler(zodValidatorCompiler);

  app.register(formbody);
  app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: "/static/", index: false });
  registerRoutes(app, config, { notes: deps.notes ?? openNotes(config.dataDir) });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: `no route for ${request.method} ${request.url.split("?")[0]}` });
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof RequestValidationError) {
      request.log.info({ details: err.details }, "invalid request");
      return reply.code(400).send({ error: "invalid request", details: err.details });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Fastify's own rejections: bad JSON (400), too large (413), unsupported type (415)...
      request.log.info({ err }, "rejected request");
      return reply.code(status).send({ error: err.message });
    }
    request.log.error({ err }, "request failed");
    // A fresh, plain body: the failed one may be what could not be sent (e.g. a BigInt in it).
    return reply.code(500).type("application/json; charset=utf-8").send({ error: "internal error" });
  });

  return app;
}
