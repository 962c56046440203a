import ssh2 from "ssh2";
import { AppError } from "../../contracts/index.js";

/** The armour lines of the private key formats we accept: OpenSSH, PKCS#1 (RSA, EC, DSA) and PKCS#8. */
const PRIVATE_KEY_BLOCK =
  /^-----BEGIN (OPENSSH|RSA|EC|DSA) PRIVATE KEY-----\r?\n[\s\S]+\r?\n-----END \1 PRIVATE KEY-----\s*$|^-----BEGIN PRIVATE KEY-----\r?\n[\s\S]+\r?\n-----END PRIVATE KEY-----\s*$/;
const MAX_KEY_CHARS = 32 * 1024;

function invalid(path: string, message: string): AppError {
  // The message says what is wrong with the key, never any part of it.
  return new AppError("invalid", "invalid_input", "invalid SSH private key", {
    details: [{ path, message }],
  });
}

/**
 * Checks that `text` is one unencrypted SSH private key (OpenSSH or PEM) that ssh2 can use, and
 * returns its key type (`ssh-ed25519`, `ssh-rsa`, ...). Failures are `invalid` on the field `path`
 * and never echo the input.
 */
export function checkPrivateKey(text: string, path = "privateKey"): string {
  if (typeof text !== "string" || text.length === 0) throw invalid(path, "a private key is required");
  if (text.length > MAX_KEY_CHARS) throw invalid(path, "too long for an SSH private key");
  const trimmed = text.trim();
  if (!PRIVATE_KEY_BLOCK.test(trimmed)) {
    throw invalid(path, "expected an OpenSSH or PEM private key (-----BEGIN ... PRIVATE KEY-----)");
  }
  const parsed = ssh2.utils.parseKey(trimmed);
  if (parsed instanceof Error) {
    const isEncrypted = /encrypted|passphrase/i.test(parsed.message);
    throw invalid(
      path,
      isEncrypted ? "encrypted private keys are not supported" : "not a private key ssh2 can read",
    );
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key?.isPrivateKey()) throw invalid(path, "this is a public key, not a private one");
  return key.type;
}
