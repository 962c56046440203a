/**
 * The vault key check and key rotation on a real store, one suite for every store driver: each case
 * opens a fresh database (the check is one row per database) with `open` and closes it.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AppError, SEALED_TABLES } from "../contracts/index.js";
import type { SealedRow, Store } from "../store/index.js";
import { nextKeyFileOf, rotateKeyFile, rotateVaultKey } from "./rotate.js";
import { Vault } from "./vault.js";
import { checkVaultKey } from "./vault-check.js";
import type { VaultKeySource } from "./vault-key.js";

const SETTING: VaultKeySource = { kind: "setting", setting: "ORCHESTRATOR_SECRET_KEY", text: "(not used)" };

function newVault(): Vault {
  return new Vault(randomBytes(32));
}

async function rejection(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, "expected the call to fail").toBeInstanceOf(AppError);
  return error as AppError;
}

/** Seals values with `vault` into all four places: project and pool secrets, a held secret, a pool bot, a server key. */
async function fill(store: Store, vault: Vault): Promise<{ total: number }> {
  const project = await store.projects.create({ name: `Sealed ${randomBytes(3).toString("hex")}` });
  for (const key of ["API_KEY", "DB_PASSWORD", "WEBHOOK_SECRET"]) {
    const value = `${key.toLowerCase()}-${randomBytes(6).toString("hex")}`;
    await store.secrets.put({
      projectId: project.id,
      key,
      kind: "user",
      ciphertext: vault.encrypt(value),
      length: value.length,
      createdBy: "test",
    });
  }
  const pooled = `pool-${randomBytes(6).toString("hex")}`;
  await store.secrets.put({
    projectId: null,
    key: `POOL_${randomBytes(3).toString("hex").toUpperCase()}`,
    kind: "infra",
    ciphertext: vault.encrypt(pooled),
    length: pooled.length,
    createdBy: null,
  });
  const conversation = await store.conversations.open({
    channel: "web",
    chatId: randomBytes(4).toString("hex"),
    userId: null,
    language: "en",
  });
  const held = `held-${randomBytes(6).toString("hex")}`;
  await store.secrets.hold({
    conversationId: conversation.id,
    key: "PASTED_TOKEN",
    ciphertext: vault.encrypt(held),
    length: held.length,
  });
  const botToken = `7${randomBytes(4).readUInt32BE()}:${randomBytes(17).toString("hex")}`;
  await store.botPool.add({
    botId: botToken.split(":")[0] ?? "1",
    botUsername: `pool_${randomBytes(3).toString("hex")}_bot`,
    ciphertext: vault.encrypt(botToken),
    length: botToken.length,
    addedBy: null,
  });
  const server = await store.servers.create({
    handle: `srv-${randomBytes(3).toString("hex")}`,
    host: "10.0.0.5",
  });
  const sshKey = JSON.stringify({
    v: 1,
    privateKey: `-----BEGIN KEY ${randomBytes(8).toString("hex")}`,
    hostKey: null,
  });
  await store.servers.setSshKey(server.id, vault.encrypt(sshKey));
  // Three project secrets, a pool secret, a held secret, a pool bot and a server key.
  return { total: 7 };
}

/** Every sealed row of the four tables. */
async function sealedRows(store: Store): Promise<SealedRow[]> {
  const rows: SealedRow[] = [];
  for (const table of SEALED_TABLES) {
    let afterId: string | null = null;
    for (;;) {
      const page = await store.vault.listSealed(table, { afterId, limit: 100 });
      rows.push(...page);
      const last = page.at(-1);
      if (!last || page.length < 100) break;
      afterId = last.id;
    }
  }
  return rows;
}

function openedBy(vault: Vault, rows: SealedRow[]): number {
  return rows.filter((row) => {
    try {
      vault.decrypt(row.ciphertext);
      return true;
    } catch {
      return false;
    }
  }).length;
}

/** Stops a rotation after `n` rows, as a crash would. */
function stopAfter(n: number): () => void {
  let count = 0;
  return () => {
    count += 1;
    if (count >= n) throw new Error(`stopped after ${n} rows`);
  };
}

export function runVaultKeyConformance(name: string, open: () => Promise<Store>): void {
  const withStore = async (work: (store: Store) => Promise<void>) => {
    const store = await open();
    try {
      await work(store);
    } finally {
      await store.close();
    }
  };

  describe(`vault key check and rotation: ${name}`, () => {
    it("writes the check into an empty database, then refuses another key, naming the setting and key ids", () =>
      withStore(async (store) => {
        const vault = newVault();
        expect(await store.vault.getCheck()).toBeNull();
        expect((await checkVaultKey(store, vault, SETTING)).keyId).toBe(vault.keyId);
        expect(await checkVaultKey(store, vault, SETTING)).toMatchObject({
          keyId: vault.keyId,
          rotatingTo: null,
        });
        const other = newVault();
        const refused = await rejection(checkVaultKey(store, other, SETTING));
        expect(refused.code).toBe("vault_key_mismatch");
        expect(refused.message).toContain("ORCHESTRATOR_SECRET_KEY");
        expect(refused.message).toContain(other.keyId);
        expect(refused.message).toContain(vault.keyId);
        expect(refused.message).toMatch(/differs from the key the stored secrets were sealed with/);
      }));

    it("checks a database from before the check against its stored ciphertexts, and refuses a key that opens none", () =>
      withStore(async (store) => {
        const vault = newVault();
        await fill(store, vault);
        const file: VaultKeySource = { kind: "file", path: "/data/secret.key" };
        const refused = await rejection(checkVaultKey(store, newVault(), file));
        expect(refused.code).toBe("vault_key_mismatch");
        expect(refused.message).toContain("the key file /data/secret.key");
        expect(refused.message).toMatch(/opens none of the 7 stored secrets/);
        expect(await store.vault.getCheck()).toBeNull();
        await checkVaultKey(store, vault, file);
        expect(await store.vault.getCheck()).toMatchObject({ keyId: vault.keyId });
      }));

    it("rotates all four places, interrupted half-way and run again, and the old key opens none after", () =>
      withStore(async (store) => {
        const old = newVault();
        const next = newVault();
        const { total } = await fill(store, old);
        await checkVaultKey(store, old, SETTING);
        const before = await sealedRows(store);
        const plaintexts = new Map(
          before.map((row) => [`${row.table} ${row.id}`, old.decrypt(row.ciphertext)]),
        );
        expect(before).toHaveLength(total);

        await expect(
          rotateVaultKey({ store, from: old, source: SETTING, to: next, onResealed: stopAfter(3) }),
        ).rejects.toThrow("stopped after 3 rows");
        const half = await sealedRows(store);
        expect(openedBy(next, half)).toBe(3);
        expect(openedBy(old, half)).toBe(total - 3);
        // Half-way, no process starts, with either key.
        expect(await store.vault.getCheck()).toMatchObject({ keyId: old.keyId, rotatingTo: next.keyId });
        for (const vault of [old, next]) {
          expect((await rejection(checkVaultKey(store, vault, SETTING))).code).toBe(
            "vault_rotation_under_way",
          );
        }
        // Another new key is refused while this rotation is unfinished.
        const another = await rejection(
          rotateVaultKey({ store, from: old, source: SETTING, to: newVault() }),
        );
        expect(another.code).toBe("vault_rotation_other_key");
        expect(another.message).toContain(next.keyId);

        const report = await rotateVaultKey({ store, from: old, source: SETTING, to: next });
        expect(report).toMatchObject({ fromKeyId: old.keyId, toKeyId: next.keyId, wasFinished: false });
        const counts = Object.values(report.tables);
        expect(counts.reduce((n, t) => n + t.resealed, 0)).toBe(total - 3);
        expect(counts.reduce((n, t) => n + t.alreadyNew, 0)).toBe(3);
        expect(counts.reduce((n, t) => n + t.unreadable, 0)).toBe(0);
        for (const table of SEALED_TABLES) {
          const t = report.tables[table];
          expect(t.resealed + t.alreadyNew, table).toBeGreaterThan(0);
        }

        const after = await sealedRows(store);
        expect(after).toHaveLength(total);
        expect(openedBy(old, after)).toBe(0);
        for (const row of after)
          expect(next.decrypt(row.ciphertext)).toBe(plaintexts.get(`${row.table} ${row.id}`));
        expect(await checkVaultKey(store, next, SETTING)).toMatchObject({
          keyId: next.keyId,
          rotatingTo: null,
        });
        expect((await rejection(checkVaultKey(store, old, SETTING))).code).toBe("vault_key_mismatch");
        // One rotate row per re-sealed row, over both runs; none carries a value.
        const trail = await store.secrets.listAudit({ limit: 200 });
        const rotated = trail.items.filter((e) => e.action === "rotate");
        expect(rotated).toHaveLength(total);
        expect(rotated[0]?.actor).toBe(`rotate-key ${old.keyId} -> ${next.keyId}`);
        const text = JSON.stringify(trail);
        for (const value of plaintexts.values()) expect(text).not.toContain(value);
        // Finished: a run again changes nothing.
        expect(await rotateVaultKey({ store, from: old, source: SETTING, to: next })).toMatchObject({
          wasFinished: true,
        });
      }));

    it("leaves a row neither key opens as it is, counted, and refuses the key in use as the new key", () =>
      withStore(async (store) => {
        const old = newVault();
        const project = await store.projects.create({ name: `Foreign ${randomBytes(3).toString("hex")}` });
        await store.secrets.put({
          projectId: project.id,
          key: "OURS",
          kind: "user",
          ciphertext: old.encrypt("ours"),
          length: 4,
          createdBy: null,
        });
        const foreign = newVault().encrypt("sealed elsewhere");
        await store.secrets.put({
          projectId: project.id,
          key: "FOREIGN",
          kind: "user",
          ciphertext: foreign,
          length: 16,
          createdBy: null,
        });
        expect((await rejection(rotateVaultKey({ store, from: old, source: SETTING, to: old }))).code).toBe(
          "vault_same_key",
        );
        const next = newVault();
        const report = await rotateVaultKey({ store, from: old, source: SETTING, to: next });
        expect(report.tables.secrets).toEqual({ resealed: 1, alreadyNew: 0, unreadable: 1 });
        expect(await store.secrets.getCiphertext(project.id, "FOREIGN")).toBe(foreign);
        expect(next.decrypt((await store.secrets.getCiphertext(project.id, "OURS")) ?? "")).toBe("ours");
      }));

    it("rotates the embedded key file through secret.key.next, continuing an interrupted run", async () => {
      const dir = await mkdtemp(join(tmpdir(), "vault-rotate-"));
      try {
        await withStore(async (store) => {
          const keyFile = join(dir, "secret.key");
          const old = await Vault.fromKeyFile(keyFile);
          const { total } = await fill(store, old);
          await expect(rotateKeyFile(store, keyFile, { onResealed: stopAfter(2) })).rejects.toThrow(
            "stopped after 2",
          );
          const nextFile = nextKeyFileOf(keyFile);
          expect((await stat(nextFile)).mode & 0o777).toBe(0o600);
          const nextText = await readFile(nextFile, "utf8");
          expect(Vault.fromBase64(await readFile(keyFile, "utf8")).keyId).toBe(old.keyId);

          const report = await rotateKeyFile(store, keyFile);
          expect(report.keyFile).toBe(keyFile);
          expect(Object.values(report.tables).reduce((n, t) => n + t.alreadyNew, 0)).toBe(2);
          await expect(stat(nextFile)).rejects.toMatchObject({ code: "ENOENT" });
          expect(await readFile(keyFile, "utf8")).toBe(nextText);
          const next = Vault.fromBase64(nextText);
          const rows = await sealedRows(store);
          expect(openedBy(next, rows)).toBe(total);
          expect(openedBy(old, rows)).toBe(0);
          await checkVaultKey(store, next, { kind: "file", path: keyFile });

          // Stopped after the check moved to the new key but before the rename: a run again only renames.
          const thirdText = Vault.generateKeyText();
          await writeFile(nextFile, thirdText, { mode: 0o600 });
          const pending = Vault.fromBase64(thirdText);
          await rotateVaultKey({ store, from: next, source: { kind: "file", path: keyFile }, to: pending });
          const renamed = await rotateKeyFile(store, keyFile);
          expect(renamed.wasFinished).toBe(true);
          expect(await readFile(keyFile, "utf8")).toBe(thirdText);
          await checkVaultKey(store, pending, { kind: "file", path: keyFile });
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
