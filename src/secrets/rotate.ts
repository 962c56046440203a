import { readFile, rename } from "node:fs/promises";
import { AppError, SEALED_TABLES, type SealedTable } from "../contracts/index.js";
import type { SealedRow, Store } from "../store/index.js";
import { Vault } from "./vault.js";
import { checkVaultKey, keyMismatch, opens, VAULT_CHECK_TEXT } from "./vault-check.js";
import { describeKeySource, type VaultKeySource } from "./vault-key.js";

/** Rows read per page of a table. */
const PAGE_ROWS = 200;
/**
 * Passes over the four tables before giving up: the second finds nothing left unless something
 * wrote while the first ran (processes should be stopped), the third is a last chance.
 */
const MAX_PASSES = 3;

/** What a rotation did to one table. */
export interface TableRotation {
  /** Re-sealed under the new key by this run. */
  resealed: number;
  /** Already under the new key (an earlier, interrupted run re-sealed them). */
  alreadyNew: number;
  /** Opened by neither key (sealed elsewhere or damaged): left as they are. */
  unreadable: number;
}

/** The outcome of a rotation, by key id (never a key) and per table. */
export interface RotationReport {
  fromKeyId: string;
  toKeyId: string;
  /** True when an earlier run had already finished it (only the key file was left to swap). */
  wasFinished: boolean;
  tables: Record<SealedTable, TableRotation>;
}

export interface RotationOptions {
  store: Pick<Store, "vault">;
  /** The key the stored secrets are sealed with now. */
  from: Vault;
  /** Where `from` came from, for errors that name it. */
  source: VaultKeySource;
  /** The key to seal them with. */
  to: Vault;
  /** Called after each row re-sealed; a throw stops the rotation there (as a crash would). */
  onResealed?: (row: SealedRow) => void | Promise<void>;
}

function emptyCounts(): Record<SealedTable, TableRotation> {
  return Object.fromEntries(
    SEALED_TABLES.map((table) => [table, { resealed: 0, alreadyNew: 0, unreadable: 0 }]),
  ) as Record<SealedTable, TableRotation>;
}

/**
 * Re-seals every stored ciphertext (project and pool secrets, held conversation secrets, pool bot
 * tokens, servers' SSH keys) under `to`, then makes the key check name `to`. Safe to interrupt and
 * run again with the same keys: the check records the rotation under way (processes refuse to
 * start meanwhile), and a row `to` already opens is skipped. Each re-sealed row leaves a `rotate`
 * audit row. Run it with the processes stopped: one still running with the old key would fail to
 * read what was re-sealed.
 */
export async function rotateVaultKey(opts: RotationOptions): Promise<RotationReport> {
  const { store, from, to, source } = opts;
  const report: RotationReport = {
    fromKeyId: from.keyId,
    toKeyId: to.keyId,
    wasFinished: false,
    tables: emptyCounts(),
  };
  if (from.keyId === to.keyId) {
    throw new AppError(
      "invalid",
      "vault_same_key",
      `the new vault key is the key in use (key id ${to.keyId})`,
      {
        details: [{ path: "newKey", message: "must differ from the current key" }],
      },
    );
  }
  const check = (await store.vault.getCheck()) ?? (await checkVaultKey(store, from, source));
  if (check.keyId === to.keyId && opens(to, check.ciphertext, VAULT_CHECK_TEXT)) {
    return { ...report, wasFinished: true };
  }
  if (check.keyId !== from.keyId || !opens(from, check.ciphertext, VAULT_CHECK_TEXT)) {
    throw keyMismatch(source, from, `the stored secrets were sealed with key id ${check.keyId}`);
  }
  const marked = await store.vault.markRotating(from.keyId, to.keyId);
  if (marked?.rotatingTo !== to.keyId) {
    const other = marked?.rotatingTo ?? check.rotatingTo;
    throw new AppError(
      "conflict",
      "vault_rotation_other_key",
      `a rotation to another key (key id ${other}) is under way: run it again with that key, not key id ${to.keyId}`,
      { details: [{ path: "newKey", message: `the rotation under way seals with key id ${other}` }] },
    );
  }

  const actor = `rotate-key ${from.keyId} -> ${to.keyId}`;
  for (let pass = 1; ; pass++) {
    const outcome = await resealPass(opts, actor, report, pass === 1);
    if (outcome.resealed === 0 && outcome.lost === 0) break;
    if (pass >= MAX_PASSES) {
      throw new AppError(
        "conflict",
        "concurrent_update",
        "secrets kept changing during the key rotation: stop every orchestrator process and run it again",
      );
    }
  }
  const finished = await store.vault.finishRotation({
    fromKeyId: from.keyId,
    keyId: to.keyId,
    ciphertext: to.encrypt(VAULT_CHECK_TEXT),
  });
  if (finished?.keyId !== to.keyId) {
    throw new AppError("conflict", "concurrent_update", "the vault key check changed during the rotation");
  }
  return report;
}

/** One pass over every table; counts go to `report` (skips and unreadable rows on the first pass only). */
async function resealPass(
  opts: RotationOptions,
  actor: string,
  report: RotationReport,
  isFirst: boolean,
): Promise<{ resealed: number; lost: number }> {
  const { store, from, to } = opts;
  const outcome = { resealed: 0, lost: 0 };
  for (const table of SEALED_TABLES) {
    const counts = report.tables[table];
    let afterId: string | null = null;
    for (;;) {
      const rows = await store.vault.listSealed(table, { afterId, limit: PAGE_ROWS });
      for (const row of rows) {
        if (opens(to, row.ciphertext)) {
          if (isFirst) counts.alreadyNew += 1;
          continue;
        }
        let plaintext: string;
        try {
          plaintext = from.decrypt(row.ciphertext);
        } catch {
          // Unreadable with the key in use already: rotating cannot make it worse, so it is left.
          if (isFirst) counts.unreadable += 1;
          continue;
        }
        if (await store.vault.reseal(row, to.encrypt(plaintext), actor)) {
          counts.resealed += 1;
          outcome.resealed += 1;
          await opts.onResealed?.(row);
        } else {
          outcome.lost += 1; // written meanwhile: the next pass looks at it again
        }
      }
      const last = rows.at(-1);
      if (!last || rows.length < PAGE_ROWS) break;
      afterId = last.id;
    }
  }
  return outcome;
}

/** The key file a rotation generates the new key into, beside the key file in use. */
export function nextKeyFileOf(keyFile: string): string {
  return `${keyFile}.next`;
}

/**
 * The embedded mode's rotation: the new key is generated into `<key file>.next` (mode 0600; an
 * interrupted run's is reused, so running again continues), every row is re-sealed, then the
 * `.next` file is renamed over the key file in one step. Interrupted after the check was switched
 * but before the rename, a run again only renames.
 */
export async function rotateKeyFile(
  store: Pick<Store, "vault">,
  keyFile: string,
  hooks: Pick<RotationOptions, "onResealed"> = {},
): Promise<RotationReport & { keyFile: string }> {
  const source: VaultKeySource = { kind: "file", path: keyFile };
  let current: string;
  try {
    current = await readFile(keyFile, "utf8");
  } catch (cause) {
    throw new AppError("invalid", "vault_key_missing", `no vault key at ${describeKeySource(source)}`, {
      cause,
      details: [{ path: keyFile, message: "not readable" }],
    });
  }
  const nextFile = nextKeyFileOf(keyFile);
  const report = await rotateVaultKey({
    store,
    from: Vault.fromBase64(current),
    source,
    to: await Vault.fromKeyFile(nextFile),
    ...hooks,
  });
  await rename(nextFile, keyFile);
  return { ...report, keyFile };
}
