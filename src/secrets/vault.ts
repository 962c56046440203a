import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { AppError } from "../contracts/index.js";

const ALGORITHM = "aes-256-gcm";
const VERSION = "v1";
const KEY_BYTES = 32;
const IV_BYTES = 12;

/**
 * Encrypts secret values at rest (AES-256-GCM, a fresh 96-bit IV per value, the tag checked on
 * decryption). Ciphertexts are `v1.<iv>.<tag>.<data>` in base64url, so the format can evolve.
 */
export class Vault {
  private readonly key: Buffer;
  /**
   * Names the key without revealing it: the first 16 hex digits of its SHA-256. What the key check
   * stores and what errors show, so two keys can be told apart in a message.
   */
  readonly keyId: string;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) {
      throw new AppError("invalid", "invalid_vault_key", `the vault key must be ${KEY_BYTES} bytes`);
    }
    this.key = key;
    this.keyId = createHash("sha256").update(key).digest("hex").slice(0, 16);
  }

  /** A fresh random key, as the base64 text a key file or `ORCHESTRATOR_SECRET_KEY` holds. */
  static generateKeyText(): string {
    return randomBytes(KEY_BYTES).toString("base64");
  }

  /** A key from its base64 text (`ORCHESTRATOR_SECRET_KEY`). */
  static fromBase64(text: string): Vault {
    return new Vault(Buffer.from(text.trim(), "base64"));
  }

  /**
   * The embedded mode's key: read from `file`, or generated once and written there (mode 0600).
   * Losing the file loses every stored secret, which is why the server mode takes the key from
   * the environment instead.
   */
  static async fromKeyFile(file: string): Promise<Vault> {
    try {
      return Vault.fromBase64(await readFile(file, "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${Vault.generateKeyText()}\n`, { mode: 0o600, flag: "wx" }).catch(
      async (error) => {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      },
    );
    await chmod(file, 0o600);
    return Vault.fromBase64(await readFile(file, "utf8"));
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv, tag, data]
      .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
      .join(".");
  }

  /** The plaintext; a tampered ciphertext or another key is an `internal` error, never garbage. */
  decrypt(ciphertext: string): string {
    const [version, iv, tag, data] = ciphertext.split(".");
    if (version !== VERSION || iv === undefined || tag === undefined || data === undefined) {
      throw new AppError("internal", "vault_format", "not a vault ciphertext");
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, Buffer.from(iv, "base64url"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString(
        "utf8",
      );
    } catch (cause) {
      throw new AppError(
        "internal",
        "vault_decrypt_failed",
        "a secret could not be decrypted (wrong key or tampered)",
        {
          cause,
        },
      );
    }
  }
}
