import { access } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../contracts/index.js";
import { Vault } from "./vault.js";

/** The setting that carries the vault key in the environment. */
export const SECRET_KEY_SETTING = "ORCHESTRATOR_SECRET_KEY";

/**
 * Where a process's vault key comes from: `ORCHESTRATOR_SECRET_KEY`, or (embedded mode only) a key
 * file in the data directory, made once. Errors about the key name this, never the key.
 */
export type VaultKeySource =
  | { kind: "setting"; setting: typeof SECRET_KEY_SETTING; text: string }
  | { kind: "file"; path: string };

/** The key file of an embedded data directory. */
export function keyFileOf(dataDir: string): string {
  return join(dataDir, "secret.key");
}

/**
 * The key source the settings select. Server mode requires `ORCHESTRATOR_SECRET_KEY`: processes on
 * other machines (or data directories) would each make a key file of their own and could not read
 * what the others sealed.
 */
export function vaultKeySource(opts: {
  mode: "embedded" | "server";
  secretKey: string | null;
  dataDir: string;
}): VaultKeySource {
  if (opts.secretKey) return { kind: "setting", setting: SECRET_KEY_SETTING, text: opts.secretKey };
  if (opts.mode === "server") {
    throw new AppError(
      "invalid",
      "vault_key_missing",
      `${SECRET_KEY_SETTING} is required in server mode: give every process the same key (openssl rand -base64 32)`,
      { details: [{ path: SECRET_KEY_SETTING, message: "required in server mode" }] },
    );
  }
  return { kind: "file", path: keyFileOf(opts.dataDir) };
}

/** How errors name a key source: the setting, or the key file's path. */
export function describeKeySource(source: VaultKeySource): string {
  return source.kind === "setting" ? source.setting : `the key file ${source.path}`;
}

/**
 * The vault of a key source; a key file is made (mode 0600) the first time, unless the stored
 * secrets were already sealed with a key (`sealedWith`, its id): then a missing file is an error,
 * not a fresh key that could open none of them.
 */
export async function openVault(
  source: VaultKeySource,
  opts: { sealedWith?: string | null } = {},
): Promise<Vault> {
  if (source.kind === "file" && opts.sealedWith && !(await exists(source.path))) {
    throw new AppError(
      "invalid",
      "vault_key_missing",
      `the key file ${source.path} is missing: the stored secrets were sealed with key id ${opts.sealedWith}; restore that file (or set ${SECRET_KEY_SETTING} to that key)`,
      { details: [{ path: source.path, message: "missing" }] },
    );
  }
  try {
    return source.kind === "setting" ? Vault.fromBase64(source.text) : await Vault.fromKeyFile(source.path);
  } catch (cause) {
    if (cause instanceof AppError && cause.code === "invalid_vault_key") {
      throw new AppError("invalid", "invalid_vault_key", `${describeKeySource(source)}: ${cause.message}`, {
        cause,
        details: [{ path: source.kind === "setting" ? source.setting : source.path, message: cause.message }],
      });
    }
    throw cause;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
