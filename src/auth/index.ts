export {
  ensureAdminToken,
  generateToken,
  hashToken,
  issueToken,
  principalForToken,
  type TokenSpec,
} from "./tokens.js";
