import { z } from "zod";
import { Id, Timestamp } from "./ids.js";

/** Who provides a secret's value: the person, generated infrastructure, or computed at deploy. */
export const SecretKind = z.enum(["user", "infra", "computed"]);
/** What may be said about a secret: never its value. */
export const SecretMeta = z.object({
  id: Id,
  projectId: Id.nullable(),
  key: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
  kind: SecretKind,
  isFilled: z.boolean(),
  length: z.number().int().min(0),
  createdBy: z.string().nullable(),
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
