import type { SealedTable } from "../contracts/index.js";

/** The key check: which key (by id, never the key) the stored secrets are sealed with. */
export interface VaultCheck {
  /** `Vault.keyId` of the key in use. */
  keyId: string;
  /** A known text sealed with that key: opening it proves a key is the one in use. */
  ciphertext: string;
  /** The key id a rotation under way seals with, null when none is. */
  rotatingTo: string | null;
  updatedAt: string;
}

/** One stored ciphertext, with what its audit rows name it by (never its value). */
export interface SealedRow {
  table: SealedTable;
  id: string;
  ciphertext: string;
  /** The project it belongs to (a pool bot: the project holding it), else null. */
  projectId: string | null;
  /** Its variable name; a server's SSH key is `SSH_KEY@<handle>`. */
  key: string;
}

/**
 * The vault's own records: the key check (one row) and, for a key rotation, every stored
 * ciphertext of the four tables that hold them, read page by page and replaced one by one.
 */
export interface VaultRepository {
  /** The check row, or null in a database that has none yet. */
  getCheck(): Promise<VaultCheck | null>;
  /** Writes the check when there is none yet; answers the row that stands (another writer's, if it won). */
  putCheckIfAbsent(check: { keyId: string; ciphertext: string }): Promise<VaultCheck>;
  /**
   * Records that a rotation from `fromKeyId` to `toKeyId` is under way, only while the check names
   * `fromKeyId` and no rotation to another key is: answers the row as it stands after, for the
   * caller to see whether it took.
   */
  markRotating(fromKeyId: string, toKeyId: string): Promise<VaultCheck | null>;
  /**
   * Ends a rotation: the check names `keyId` (its text sealed with that key) and nothing is under
   * way. Only from `fromKeyId`; answers the row as it stands after.
   */
  finishRotation(input: { fromKeyId: string; keyId: string; ciphertext: string }): Promise<VaultCheck | null>;
  /** Up to `limit` ciphertexts of each table, for the first check of a database made before it. */
  sampleSealed(limitPerTable: number): Promise<string[]>;
  /** Up to `limit` rows of `table` after `afterId` (from the first when null), in id order. */
  listSealed(table: SealedTable, opts: { afterId: string | null; limit: number }): Promise<SealedRow[]>;
  /**
   * Replaces one row's ciphertext if it still holds `from`, with a `rotate` audit row by `actor`
   * in the same transaction; false (and no audit row) when the row changed or went meanwhile.
   */
  reseal(row: SealedRow, to: string, actor: string): Promise<boolean>;
}
