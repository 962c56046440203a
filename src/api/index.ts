export type { Access, Api, ApiDeps, HealthDeps, ProcessInfo } from "./context.js";
export { buildApi, buildProbeApi, listRoutes } from "./server.js";
