import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Vault } from "./vault.js";

describe("Vault", () => {
  it("round-trips, never repeats a ciphertext, and refuses tampering or another key", () => {
    const vault = new Vault(Buffer.alloc(32, 7));
    const a = vault.encrypt("123456:ABC-token");
    const b = vault.encrypt("123456:ABC-token");
    expect(a).not.toBe(b);
    expect(a).not.toContain("ABC");
    expect(vault.decrypt(a)).toBe("123456:ABC-token");
    const parts = a.split(".");
    const data = Buffer.from(parts[3] ?? "", "base64url");
    data[0] = (data[0] ?? 0) ^ 1;
    parts[3] = data.toString("base64url");
    expect(() => vault.decrypt(parts.join("."))).toThrow(/wrong key or tampered/);
    expect(() => new Vault(Buffer.alloc(32, 8)).decrypt(a)).toThrow(/wrong key or tampered/);
    expect(() => vault.decrypt("plain")).toThrow(/not a vault ciphertext/);
    expect(() => new Vault(Buffer.alloc(16))).toThrow(/32 bytes/);
  });

  it("creates its key file once, mode 0600, and reads the same key back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vault-"));
    const file = join(dir, "secret.key");
    const first = await Vault.fromKeyFile(file);
    const text = await readFile(file, "utf8");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await Vault.fromKeyFile(file);
    expect(await readFile(file, "utf8")).toBe(text);
    expect(second.decrypt(first.encrypt("x"))).toBe("x");
    await rm(dir, { recursive: true, force: true });
  });
});
