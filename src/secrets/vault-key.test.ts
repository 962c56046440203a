import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { runVaultKeyConformance } from "./vault.conformance.js";
import { openVault, vaultKeySource } from "./vault-key.js";

runVaultKeyConformance("pglite", () => openTestStore());

describe("vault key source", () => {
  it("takes ORCHESTRATOR_SECRET_KEY, else in embedded mode the data directory's key file", () => {
    expect(vaultKeySource({ mode: "server", secretKey: "k", dataDir: "/d" })).toMatchObject({
      kind: "setting",
      setting: "ORCHESTRATOR_SECRET_KEY",
    });
    expect(vaultKeySource({ mode: "embedded", secretKey: null, dataDir: "/d" })).toEqual({
      kind: "file",
      path: "/d/secret.key",
    });
  });

  it("refuses server mode without ORCHESTRATOR_SECRET_KEY, and a malformed key, naming the setting", async () => {
    expect(() => vaultKeySource({ mode: "server", secretKey: null, dataDir: "/d" })).toThrow(
      expect.objectContaining({
        code: "vault_key_missing",
        message: expect.stringContaining("ORCHESTRATOR_SECRET_KEY is required in server mode"),
      }),
    );
    const short = Buffer.alloc(16, 1).toString("base64");
    await expect(
      openVault({ kind: "setting", setting: "ORCHESTRATOR_SECRET_KEY", text: short }),
    ).rejects.toMatchObject({
      code: "invalid_vault_key",
      message: expect.stringMatching(/^ORCHESTRATOR_SECRET_KEY: the vault key must be 32 bytes/),
    });
  });

  it("makes a missing key file only while no secret was sealed yet", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vault-key-"));
    try {
      const path = join(dir, "secret.key");
      await expect(
        openVault({ kind: "file", path }, { sealedWith: "0123456789abcdef" }),
      ).rejects.toMatchObject({
        code: "vault_key_missing",
        message: expect.stringContaining(`the key file ${path} is missing`),
      });
      await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
      const made = await openVault({ kind: "file", path }, { sealedWith: null });
      expect((await openVault({ kind: "file", path }, { sealedWith: made.keyId })).keyId).toBe(made.keyId);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
