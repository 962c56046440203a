export type { Access, Api, ApiDeps } from "./context.js";
export { buildApi, listRoutes } from "./server.js";
