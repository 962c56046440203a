import cookie from "@fastify/cookie";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger } from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import { AppError } from "../contracts/index.js";
import { SecretRedactor } from "../observability/index.js";
import { authenticate } from "./auth.js";
import type { Access, Api, ApiDeps, HealthDeps } from "./context.js";
import { clientErrorHandler, errorHandler, frameworkErrorHandler } from "./errors.js";
import { registerChatRoutes } from "./routes/chat.js";
import { registerDashboardRoutes } from "./routes/dashboard.js";
import { registerEntityRoutes } from "./routes/entities.js";
import { registerGitRoutes } from "./routes/git.js";
import { registerLlmRoutes } from "./routes/llm.js";
import { registerLogRoutes } from "./routes/logs.js";
import { registerMonitorRoutes } from "./routes/monitor.js";
import { registerPoMcpRoutes } from "./routes/po-mcp.js";
import { registerRunRoutes } from "./routes/runs.js";
import { registerSecretRoutes } from "./routes/secrets.js";
import { registerServerRoutes } from "./routes/servers.js";
import { registerSessionRoutes } from "./routes/session.js";
import { registerSettingsRoutes } from "./routes/settings.js";
import { registerSpendRoutes } from "./routes/spend.js";
import { registerHealthRoutes, registerSystemRoutes } from "./routes/system.js";
import { registerTokenRoutes } from "./routes/tokens.js";
import { registerToolRoutes } from "./routes/tools.js";
import { registerTracingRoutes } from "./routes/tracing.js";
import { registerWebApp } from "./routes/web-app.js";
import { registerWorkerRoutes } from "./routes/workers.js";

/** A registered route: method, URL pattern and who may call it (`admin` unless it says). */
export interface RouteEntry {
  method: string;
  url: string;
  access: Access;
}

const routeTables = new WeakMap<object, RouteEntry[]>();

/**
 * Paths whose answers are not redacted: git smart HTTP carries repository bytes, and the model
 * gateway relays providers' streams and blocks secrets in what it forwards itself.
 */
const UNREDACTED_PREFIXES = ["/git/", "/llm/"];

/**
 * The answer with every secret the redactor knows masked (JSON stays valid JSON); bodies that are
 * not text (streams, buffers) and the unredacted paths pass as they are.
 */
function redactAnswer(
  redactor: SecretRedactor,
  request: { url: string; shownOnce: Set<string> | null },
  contentType: unknown,
  payload: unknown,
): unknown {
  if (typeof payload !== "string") return payload;
  if (UNREDACTED_PREFIXES.some((prefix) => request.url.startsWith(prefix))) return payload;
  const options = request.shownOnce ? { keep: request.shownOnce } : {};
  const type = typeof contentType === "string" ? contentType : "";
  return type.includes("json") ? redactor.redactJson(payload, options) : redactor.redact(payload, options);
}

/** Every route the API registered (method and URL pattern), for route-walking checks. */
export function listRoutes(app: Api): RouteEntry[] {
  return [...(routeTables.get(app) ?? [])];
}

/**
 * A Fastify app with what every listener of ours has: zod validation, one error shape, bearer
 * authentication on every route but the public ones, request metrics and redacted answers.
 */
function baseApp(deps: HealthDeps & { redactor?: SecretRedactor }): Api {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: "api" }) as FastifyBaseLogger,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>();
  const table: RouteEntry[] = [];
  routeTables.set(app, table);
  app.addHook("onRoute", (route) => {
    const access = route.config?.access ?? "admin";
    for (const method of [route.method].flat()) {
      if (method !== "HEAD") table.push({ method, url: route.url, access });
    }
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler(deps.logger));
  // Cookies are read by `authenticate` itself (request time, after the plugin loaded).
  void app.register(cookie, { hook: false });
  app.decorateRequest("principal", null);
  app.decorateRequest("webSession", null);
  app.decorateRequest("shownOnce", null);
  const redactor = deps.redactor ?? new SecretRedactor();
  app.decorate("redactor", redactor);
  app.addHook("onSend", async (req, reply, payload) =>
    redactAnswer(redactor, req, reply.getHeader("content-type"), payload),
  );
  app.setNotFoundHandler({ preHandler: authenticate(deps.store) }, (req) => {
    throw new AppError("not_found", "route_not_found", `no route ${req.method} ${req.url.split("?")[0]}`);
  });
  app.addHook("onRequest", authenticate(deps.store));
  app.addHook("onResponse", async (req, reply) => {
    const labels = {
      method: req.method,
      route: req.routeOptions.url ?? "unmatched",
      status_code: String(reply.statusCode),
    };
    deps.metrics.httpRequests.inc(labels);
    deps.metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
  return app;
}

/**
 * What a process without the api role listens with: `/health` (public) and `/metrics` (bearer
 * token), so a supervisor or Compose can check an engine or a workers node like the API; in a
 * chat process, also the MCP endpoint of its CLI Product Owner's turns.
 */
export function buildProbeApi(
  deps: HealthDeps & { redactor?: SecretRedactor } & Pick<ApiDeps, "poTurns">,
): Api {
  const app = baseApp(deps);
  registerHealthRoutes(app, deps);
  if (deps.poTurns) registerPoMcpRoutes(app, deps.poTurns);
  return app;
}

/**
 * Builds the HTTP API (not yet listening). Every route but `/health` needs a bearer token, except
 * the git smart HTTP routes (present when `deps.forge` is), which take the token as Basic auth.
 * Every answer passes through the redactor on its way out (`redactAnswer`).
 */
export async function buildApi(deps: ApiDeps): Promise<Api> {
  const app = baseApp(deps);
  await app.register(swagger, {
    openapi: {
      info: { title: "Codegen Orchestrator API", version: deps.version },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  registerSystemRoutes(app, deps);
  registerSessionRoutes(app, deps);
  registerDashboardRoutes(app, deps);
  registerSpendRoutes(app, deps);
  registerLogRoutes(app, deps);
  registerTracingRoutes(app, deps);
  registerEntityRoutes(app, deps);
  registerMonitorRoutes(app, deps);
  registerSettingsRoutes(app, deps);
  registerServerRoutes(app, deps);
  registerRunRoutes(app, deps);
  registerSecretRoutes(app, deps);
  registerTokenRoutes(app, deps);
  registerToolRoutes(app, deps);
  registerChatRoutes(app, deps);
  if (deps.poTurns) registerPoMcpRoutes(app, deps.poTurns);
  if (deps.workers) registerWorkerRoutes(app, deps.workers, deps.store);
  if (deps.gateway) registerLlmRoutes(app, deps.gateway);
  if (deps.forge) await registerGitRoutes(app, { store: deps.store, forge: deps.forge });
  await registerWebApp(app);
  return app;
}
