import { z } from "zod";
import { Id, Timestamp } from "./ids.js";

/** The four places a vault ciphertext is kept: what a key rotation re-seals, table by table. */
export const SEALED_TABLES = ["secrets", "conversation_secrets", "bot_pool", "servers"] as const;
export type SealedTable = (typeof SEALED_TABLES)[number];

/** Who provides a secret's value: the person, generated infrastructure, or computed at deploy. */
export const SecretKind = z.enum(["user", "infra", "computed"]);
/** A Telegram bot as `getMe` names it: public facts, never the token. */
export const BotIdentity = z.object({
  id: z.string().regex(/^[0-9]+$/),
  username: z.string().min(1),
});
export type BotIdentity = z.infer<typeof BotIdentity>;

/** What may be said about a secret: never its value. */
export const SecretMeta = z.object({
  id: Id,
  projectId: Id.nullable(),
  key: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
  kind: SecretKind,
  isFilled: z.boolean(),
  length: z.number().int().min(0),
  createdBy: z.string().nullable(),
  /** A checked Telegram bot token's bot; null for any other secret. */
  bot: BotIdentity.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type SecretMeta = z.infer<typeof SecretMeta>;

/**
 * How a stored secret is named wherever it is found (a redactor's label, a model request the
 * gateway blocked): the project's id (or the pool) and the key, never the value.
 */
export function secretLabel(projectId: string | null, key: string): string {
  return projectId ? `project ${projectId} ${key}` : `pool ${key}`;
}

/**
 * What happened to a secret, as its audit trail says: stored, replaced, removed, held for a
 * conversation, read to deploy its project, re-sealed under a new vault key; a pool token added,
 * given to a project, or given back.
 */
export const SecretAuditAction = z.enum([
  "put",
  "replace",
  "remove",
  "hold",
  "read",
  "rotate",
  "pool_add",
  "pool_take",
  "pool_return",
]);
export type SecretAuditAction = z.infer<typeof SecretAuditAction>;

/** One audit row: who or what did what to which secret, never its value. */
export const SecretAuditEntry = z.object({
  id: Id,
  projectId: Id.nullable(),
  key: z.string(),
  action: SecretAuditAction,
  actor: z.string().nullable(),
  at: Timestamp,
});
export type SecretAuditEntry = z.infer<typeof SecretAuditEntry>;

/** A pool bot as admins see it: masked, with the project holding it. */
export const PoolBot = z.object({
  id: Id,
  botId: z.string(),
  botUsername: z.string(),
  /** The token's first characters (its bot id) and length: enough to recognise it, never to use it. */
  masked: z.string(),
  projectId: Id.nullable(),
  addedBy: z.string().nullable(),
  createdAt: Timestamp,
  takenAt: Timestamp.nullable(),
});
export type PoolBot = z.infer<typeof PoolBot>;
