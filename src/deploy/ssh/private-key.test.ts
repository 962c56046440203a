import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AppError } from "../../contracts/index.js";
import { checkPrivateKey } from "./private-key.js";

const dir = mkdtempSync(join(tmpdir(), "orch-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keygen(name: string, args: string[]): { privateKey: string; publicKey: string } {
  const path = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-C", "test", "-f", path, ...args]);
  return { privateKey: readFileSync(path, "utf8"), publicKey: readFileSync(`${path}.pub`, "utf8") };
}

function rejection(text: string): AppError {
  try {
    checkPrivateKey(text);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected a rejection");
}

describe("checkPrivateKey", () => {
  it("accepts OpenSSH ed25519 and PEM RSA keys and says their type", () => {
    expect(checkPrivateKey(keygen("ed", ["-t", "ed25519", "-N", ""]).privateKey)).toBe("ssh-ed25519");
    expect(
      checkPrivateKey(keygen("rsa", ["-t", "rsa", "-b", "2048", "-m", "PEM", "-N", ""]).privateKey),
    ).toBe("ssh-rsa");
  });

  it("refuses text that is not a private key, on the privateKey field, without echoing it", () => {
    const { publicKey } = keygen("pub", ["-t", "ed25519", "-N", ""]);
    const garbage =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LW5vdC1hLWtleQ==\n-----END OPENSSH PRIVATE KEY-----\n";
    for (const text of ["", "hunter2-secret-value", publicKey, garbage]) {
      const error = rejection(text);
      expect(error.kind).toBe("invalid");
      expect(error.details[0]?.path).toBe("privateKey");
      const shown = JSON.stringify({ message: error.message, details: error.details });
      if (text) expect(shown).not.toContain(text.trim().slice(0, 40));
      expect(shown).not.toContain("c2VjcmV0");
    }
  });

  it("refuses a passphrase-protected key and says why", () => {
    const { privateKey } = keygen("enc", ["-t", "ed25519", "-N", "correct horse"]);
    expect(rejection(privateKey).details[0]?.message).toMatch(/encrypted/);
  });
});
