import { AppError } from "../contracts/index.js";
import type { Store, VaultCheck } from "../store/index.js";
import type { Vault } from "./vault.js";
import { describeKeySource, type VaultKeySource } from "./vault-key.js";

/** The known text the check seals: opening it to this text proves a key is the one in use. */
export const VAULT_CHECK_TEXT = "codegen-orchestrator vault check v1";
/** Stored ciphertexts tried per table when a database from before the check gets its first one. */
const SAMPLES_PER_TABLE = 20;

/** True when `vault` opens `ciphertext` to `expected` (any text when `expected` is undefined). */
export function opens(vault: Vault, ciphertext: string, expected?: string): boolean {
  try {
    const text = vault.decrypt(ciphertext);
    return expected === undefined || text === expected;
  } catch {
    return false; // another key or not a vault ciphertext: a plain "no" is the answer asked for
  }
}

/** The refusal of a key other than the one the stored secrets are sealed with. */
export function keyMismatch(source: VaultKeySource, vault: Vault, why: string): AppError {
  const where = describeKeySource(source);
  return new AppError(
    "invalid",
    "vault_key_mismatch",
    `the vault key from ${where} (key id ${vault.keyId}) differs from the key the stored secrets were sealed with: ${why}. Start with the key they were sealed with.`,
    { details: [{ path: source.kind === "setting" ? source.setting : source.path, message: why }] },
  );
}

/** The refusal to start while a key rotation is under way (or was interrupted). */
export function rotationUnderWay(check: VaultCheck): AppError {
  return new AppError(
    "conflict",
    "vault_rotation_under_way",
    `a vault key rotation from key id ${check.keyId} to ${check.rotatingTo} is under way or was interrupted: finish it with \`orchestrator secret rotate-key\` before starting`,
    { details: [{ path: "vault_check.rotating_to", message: `rotation to ${check.rotatingTo}` }] },
  );
}

/**
 * Checks at start that `vault` holds the key the database's secrets are sealed with, so a process
 * with another key refuses to start instead of failing every read and sealing new values no other
 * process can open. A database without a check gets one: at once when it holds no ciphertext, else
 * only when the key opens one of its stored ciphertexts (a database from before the check).
 */
export async function checkVaultKey(
  store: Pick<Store, "vault">,
  vault: Vault,
  source: VaultKeySource,
): Promise<VaultCheck> {
  const stored = await store.vault.getCheck();
  if (stored) {
    verify(stored, vault, source);
    return stored;
  }
  const samples = await store.vault.sampleSealed(SAMPLES_PER_TABLE);
  if (samples.length > 0 && !samples.some((ciphertext) => opens(vault, ciphertext))) {
    throw keyMismatch(source, vault, `it opens none of the ${samples.length} stored secrets tried`);
  }
  const written = await store.vault.putCheckIfAbsent({
    keyId: vault.keyId,
    ciphertext: vault.encrypt(VAULT_CHECK_TEXT),
  });
  // Another process may have written its check first: it must name this key too.
  verify(written, vault, source);
  return written;
}

function verify(check: VaultCheck, vault: Vault, source: VaultKeySource): void {
  if (check.rotatingTo !== null) throw rotationUnderWay(check);
  if (check.keyId !== vault.keyId) {
    throw keyMismatch(source, vault, `the stored secrets were sealed with key id ${check.keyId}`);
  }
  if (!opens(vault, check.ciphertext, VAULT_CHECK_TEXT)) {
    throw keyMismatch(source, vault, "it does not open the stored key check");
  }
}
