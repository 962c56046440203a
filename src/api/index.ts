export type { Access, Api, ApiDeps, HealthDeps, ProcessInfo } from "./context.js";
export { registerWebApp, WEB_APP_ROOT } from "./routes/web-app.js";
export { buildApi, buildProbeApi, listRoutes, type RouteEntry } from "./server.js";
