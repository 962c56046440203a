import { createHash, randomBytes } from "node:crypto";
import {
  type AgentRole,
  type ApiToken,
  ApiTokenCreate,
  AppError,
  type Principal,
  parseOrThrow,
  type ToolGroup,
} from "../contracts/index.js";
import type { Store } from "../store/index.js";

const PREFIX = "orc_";

/** A fresh bearer token: 32 random bytes, prefixed so scanners and people recognise it. */
export function generateToken(): string {
  return PREFIX + randomBytes(32).toString("base64url");
}

/** Only this hash is stored; the token itself is shown once, when it is issued. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The stored fields of a token to issue (`issueToken` trusts them; `createToken` checks them). */
export interface TokenSpec {
  name: string;
  kind: ApiToken["kind"];
  projectId?: string | null;
  role?: AgentRole | null;
  workerId?: string | null;
  userId?: string | null;
  groups?: ToolGroup[];
}

/** Issues a token and stores its hash. The returned `token` must be shown once and never logged. */
export async function issueToken(
  store: Store,
  spec: TokenSpec,
): Promise<{ token: string; record: ApiToken }> {
  const token = generateToken();
  const record = await store.apiTokens.create({
    name: spec.name,
    kind: spec.kind,
    tokenHash: hashToken(token),
    projectId: spec.projectId ?? null,
    role: spec.role ?? null,
    workerId: spec.workerId ?? null,
    userId: spec.userId ?? null,
    groups: spec.groups ?? [],
  });
  return { token, record };
}

/**
 * Issues a token asked for at a door (API, CLI): the input is checked against `ApiTokenCreate`, and
 * the project or user it names must exist. The returned `token` must be shown once.
 */
export async function createToken(
  store: Store,
  input: ApiTokenCreate,
): Promise<{ token: string; record: ApiToken }> {
  const spec = parseOrThrow(ApiTokenCreate, input, "token");
  if (spec.projectId) await store.projects.get(spec.projectId);
  if (spec.userId) await store.users.get(spec.userId);
  return issueToken(store, spec);
}

/**
 * Revokes a token by id, refusing to revoke the last live admin token (nobody could administer
 * the system afterwards without database access). Revoking twice keeps the first time.
 */
export async function revokeToken(store: Store, id: string): Promise<ApiToken> {
  const tokens = await store.apiTokens.list();
  const target = tokens.find((t) => t.id === id);
  if (!target) throw AppError.notFound("token", id);
  const admins = tokens.filter((t) => t.kind === "admin" && t.revokedAt === null);
  if (target.kind === "admin" && target.revokedAt === null && admins.length === 1) {
    throw new AppError("conflict", "last_admin_token", "refusing to revoke the last admin token");
  }
  return store.apiTokens.revoke(id);
}

/** The principal a presented token stands for, or null when it is unknown or revoked. */
export async function principalForToken(store: Store, token: string): Promise<Principal | null> {
  if (!token.startsWith(PREFIX)) return null;
  const record = await store.apiTokens.findActiveByHash(hashToken(token));
  return record ? principalForRecord(store, record) : null;
}

/** The principal of the live token with this id (a web session acts as its token), or null. */
export async function principalForTokenId(store: Store, tokenId: string): Promise<Principal | null> {
  const record = await store.apiTokens.findActiveById(tokenId);
  return record ? principalForRecord(store, record) : null;
}

async function principalForRecord(store: Store, record: ApiToken): Promise<Principal | null> {
  if (record.kind === "admin") return { kind: "admin", tokenId: record.id };
  if (record.kind === "user") {
    if (!record.userId) return null;
    // A person barred (or gone) since the token was issued loses its access at once.
    const user = await store.users.get(record.userId).catch((error: unknown) => {
      if (error instanceof AppError && error.kind === "not_found") return null;
      throw error;
    });
    return user?.isAllowed ? { kind: "user", tokenId: record.id, userId: user.id } : null;
  }
  if (!record.projectId || !record.role) return null;
  return {
    kind: "worker",
    tokenId: record.id,
    projectId: record.projectId,
    role: record.role,
    workerId: record.workerId,
    groups: record.groups,
  };
}

/**
 * Creates the first admin token when the store has none. Returns the token (to print once) or
 * null when an admin token already exists.
 */
export async function ensureAdminToken(store: Store): Promise<string | null> {
  if ((await store.apiTokens.countActiveAdmins()) > 0) return null;
  const { token } = await issueToken(store, { name: "initial-admin", kind: "admin" });
  return token;
}
