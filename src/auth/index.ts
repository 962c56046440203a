export {
  CSRF_HEADER,
  type LiveSession,
  SESSION_COOKIE,
  sessionCleanupJob,
  sessionForSecret,
  startSession,
} from "./sessions.js";
export {
  createToken,
  ensureAdminToken,
  generateToken,
  hashToken,
  issueToken,
  principalForToken,
  principalForTokenId,
  revokeToken,
  type TokenSpec,
} from "./tokens.js";
