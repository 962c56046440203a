import formbody from "@fastify/formbody";
import fastifyStatic from "@fastify/static";
import Fastify, { type FastifyInstance } from "fastify";
import type { Config } from "./config.js";
import { MessageStore } from "./messages.js";
import { publicDir } from "./paths.js";
import { registerRoutes } from "./routes/index.js";
import { errorPage } from "./views/errors.js";
import { sendPage } from "./views/layout.js";

/** What the routes use besides the config: the stores (tests may pass their own). */
export interface AppDeps {
  messages: MessageStore;
}

/** The stores on `config.dataDir`. */
export function defaultDeps(config: Config): AppDeps {
  return { messages: new MessageStore(config.dataDir) };
}

/**
 * Builds the site without listening: `app.inject(...)` in tests, `app.listen(...)` in main.ts.
 * Forms arrive as `application/x-www-form-urlencoded` (formbody); `public/` is served at `/`.
 */
export function buildApp(config: Config, deps: AppDeps = defaultDeps(config)): FastifyInstance {
  const app = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: 100 * 1024,
  });

  app.register(formbody);
  app.register(fastifyStatic, { root: publicDir(), prefix: "/", index: false });

  app.addHook("onSend", async (_request, reply) => {
    reply.header("x-content-type-options", "nosniff");
    reply.header("x-frame-options", "DENY");
    reply.header("referrer-policy", "same-origin");
  });

  registerRoutes(app, config, deps);

  app.setNotFoundHandler((_request, reply) =>
    sendPage(reply, errorPage(404, "There is no page at this address."), 404),
  );

  // A bad request (malformed body, too large, wrong content type) keeps its 4xx status; anything
  // else is logged with its stack and answered 500 with a plain page. The process never stops.
  app.setErrorHandler((error, request, reply) => {
    const status = statusOf(error);
    if (status >= 400 && status < 500) {
      request.log.info({ err: error }, "bad request");
      return sendPage(reply, errorPage(status, "The request could not be understood."), status);
    }
    request.log.error({ err: error }, "request failed");
    return sendPage(reply, errorPage(500, "Please try again in a moment."), 500);
  });

  return app;
}

/** The HTTP status an error carries (Fastify sets one on bad requests), else 500. */
function statusOf(error: unknown): number {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" && status >= 400 && status <= 599 ? status : 500;
}
