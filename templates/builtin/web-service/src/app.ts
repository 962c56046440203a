import { createServer, type Server } from "node:http";
import type { Config } from "./config.js";
import { routes } from "./routes.js";

/** Builds the HTTP server (not listening yet): JSON answers, 404 and 405 handled, errors as 500. */
export function createApp(config: Config): Server {
  return createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? "/", "http://localhost");
    const onPath = routes.filter((r) => r.path === url.pathname);
    const route = onPath.find((r) => r.method === req.method);
    if (!route) {
      if (onPath.length > 0) return send(405, { error: "method not allowed" });
      return send(404, { error: "not found" });
    }
    Promise.resolve()
      .then(() => route.handle(url, config))
      .then(
        (result) => send(result.status, result.body),
        (err: unknown) => {
          console.error(`${req.method} ${url.pathname} failed:`, err);
          send(500, { error: "internal error" });
        },
      );
  });
}
