export type { Access, Api, ApiDeps } from "./context.js";
export { buildApi, listRoutes } from "./server.js";
export {
  ensureAdminToken,
  generateToken,
  hashToken,
  issueToken,
  principalForToken,
  type TokenSpec,
} from "./tokens.js";
