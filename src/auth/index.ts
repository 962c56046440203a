export {
  createToken,
  ensureAdminToken,
  generateToken,
  hashToken,
  issueToken,
  principalForToken,
  revokeToken,
  type TokenSpec,
} from "./tokens.js";
