import { createHash, randomBytes } from "node:crypto";
import type { AgentRole, ApiToken, Principal, ToolGroup } from "../contracts/index.js";
import type { Store } from "../store/store.js";

const PREFIX = "orc_";

/** A fresh bearer token: 32 random bytes, prefixed so scanners and people recognise it. */
export function generateToken(): string {
  return PREFIX + randomBytes(32).toString("base64url");
}

/** Only this hash is stored; the token itself is shown once, when it is issued. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export interface TokenSpec {
  name: string;
  kind: ApiToken["kind"];
  projectId?: string | null;
  role?: AgentRole | null;
  workerId?: string | null;
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
    groups: spec.groups ?? [],
  });
  return { token, record };
}

/** The principal a presented token stands for, or null when it is unknown or revoked. */
export async function principalForToken(store: Store, token: string): Promise<Principal | null> {
  if (!token.startsWith(PREFIX)) return null;
  const record = await store.apiTokens.findActiveByHash(hashToken(token));
  if (!record) return null;
  if (record.kind === "admin") return { kind: "admin", tokenId: record.id };
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
