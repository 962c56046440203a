import type { Config } from "./config.js";

/** What a route handler returns: a status and a JSON body. */
export interface RouteResult {
  status: number;
  body: unknown;
}

/** A route: method, exact path, handler. */
export interface Route {
  method: string;
  path: string;
  handle(url: URL, config: Config): RouteResult | Promise<RouteResult>;
}

/** Every route of the service. Add new routes to this list. */
export const routes: Route[] = [
  {
    method: "GET",
    path: "/health",
    handle: (_url, config) => ({ status: 200, body: { status: "ok", env: config.appEnv } }),
  },
  {
    method: "GET",
    path: "/api/hello",
    handle: (url) => {
      const name = url.searchParams.get("name") || "world";
      return { status: 200, body: { message: `Hello, ${name}!`, service: "{{projectName}}" } };
    },
  },
];
