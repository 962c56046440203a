import { describe, expect, it } from "vitest";
import { SEALED_TABLES, type SealedTable } from "../../contracts/index.js";
import type { SealedRow, Store } from "../store.js";
import { expectAppError, type GetStore, makeProject, telegramId, uniq } from "./helpers.js";

/** Every sealed row of `table`, page by page (the suite's database holds other cases' rows too). */
async function allSealed(store: Store, table: SealedTable, limit = 2): Promise<SealedRow[]> {
  const rows: SealedRow[] = [];
  let afterId: string | null = null;
  for (;;) {
    const page = await store.vault.listSealed(table, { afterId, limit });
    rows.push(...page);
    const last = page.at(-1);
    if (!last || page.length < limit) return rows;
    afterId = last.id;
  }
}

/** The vault's key check, the sealed rows a rotation walks, and the secrets audit trail. */
export function vaultCases(get: GetStore): void {
  describe("vault", () => {
    it("keeps one key check: the first writer's stands, a rotation moves it from the key in use to one new key", async () => {
      const first = await get().vault.putCheckIfAbsent({ keyId: "aaaa000011112222", ciphertext: "C-A" });
      expect(first).toMatchObject({ keyId: "aaaa000011112222", ciphertext: "C-A", rotatingTo: null });
      // A second writer (another process starting with another key) finds the first one's row.
      const second = await get().vault.putCheckIfAbsent({ keyId: "bbbb000011112222", ciphertext: "C-B" });
      expect(second).toMatchObject({ keyId: "aaaa000011112222", ciphertext: "C-A" });
      expect(await get().vault.getCheck()).toMatchObject({ keyId: "aaaa000011112222" });

      // Only from the key in use, and only to one key at a time.
      expect(await get().vault.markRotating("ffff000011112222", "cccc000011112222")).toMatchObject({
        rotatingTo: null,
      });
      expect(await get().vault.markRotating("aaaa000011112222", "cccc000011112222")).toMatchObject({
        rotatingTo: "cccc000011112222",
      });
      expect(await get().vault.markRotating("aaaa000011112222", "dddd000011112222")).toMatchObject({
        rotatingTo: "cccc000011112222",
      });
      // Running again with the same new key is allowed.
      expect(await get().vault.markRotating("aaaa000011112222", "cccc000011112222")).toMatchObject({
        rotatingTo: "cccc000011112222",
      });
      // Finishing from a key not in use changes nothing.
      expect(
        await get().vault.finishRotation({
          fromKeyId: "ffff000011112222",
          keyId: "cccc000011112222",
          ciphertext: "X",
        }),
      ).toMatchObject({ keyId: "aaaa000011112222", rotatingTo: "cccc000011112222" });
      const done = await get().vault.finishRotation({
        fromKeyId: "aaaa000011112222",
        keyId: "cccc000011112222",
        ciphertext: "C-C",
      });
      expect(done).toMatchObject({ keyId: "cccc000011112222", ciphertext: "C-C", rotatingTo: null });
    });

    it("lists the sealed rows of all four tables in pages and re-seals a row only while it is unchanged", async () => {
      const store = get();
      const project = await makeProject(store);
      const key = `KEY_${uniq().replace(/-/g, "_").toUpperCase()}`;
      await store.secrets.put({
        projectId: project.id,
        key,
        kind: "user",
        ciphertext: "S-OLD",
        length: 3,
        createdBy: null,
      });
      const conversation = await store.conversations.open({
        channel: "telegram",
        chatId: telegramId(),
        userId: null,
        language: "en",
      });
      await store.secrets.hold({
        conversationId: conversation.id,
        key: "HELD_KEY",
        ciphertext: "H-OLD",
        length: 3,
      });
      const botId = telegramId();
      await store.botPool.add({
        botId,
        botUsername: `${uniq("b")}_bot`,
        ciphertext: "P-OLD",
        length: 46,
        addedBy: null,
      });
      const handle = uniq("srv");
      const server = await store.servers.create({ handle, host: "10.0.0.9", sshUser: "deploy" });
      await store.servers.setSshKey(server.id, "K-OLD");
      // A server without a key has nothing sealed: it is not listed.
      const bare = await store.servers.create({ handle: uniq("bare"), host: "10.0.0.8", sshUser: "deploy" });

      const found: Record<SealedTable, SealedRow | undefined> = {
        secrets: (await allSealed(store, "secrets")).find((r) => r.ciphertext === "S-OLD" && r.key === key),
        conversation_secrets: (await allSealed(store, "conversation_secrets")).find(
          (r) => r.ciphertext === "H-OLD",
        ),
        bot_pool: (await allSealed(store, "bot_pool")).find((r) => r.ciphertext === "P-OLD"),
        servers: (await allSealed(store, "servers")).find((r) => r.id === server.id),
      };
      expect(found.secrets).toMatchObject({ table: "secrets", projectId: project.id, key });
      expect(found.conversation_secrets).toMatchObject({ projectId: null, key: "HELD_KEY" });
      expect(found.bot_pool).toMatchObject({ projectId: null, key: "TELEGRAM_BOT_TOKEN" });
      expect(found.servers).toMatchObject({ projectId: null, key: `SSH_KEY@${handle}`, ciphertext: "K-OLD" });
      expect((await allSealed(store, "servers")).some((r) => r.id === bare.id)).toBe(false);
      // Pages follow id order without gaps or repeats.
      const ids = (await allSealed(store, "secrets", 1)).map((r) => r.id);
      expect(ids).toEqual((await allSealed(store, "secrets", 1000)).map((r) => r.id));
      expect(new Set(ids).size).toBe(ids.length);

      for (const table of SEALED_TABLES) {
        const row = found[table] as SealedRow;
        expect(await store.vault.reseal(row, `${table}-NEW`, "rotate-key a -> b")).toBe(true);
        // The same row again: it no longer holds the old ciphertext, so nothing changes.
        expect(await store.vault.reseal(row, `${table}-OTHER`, "rotate-key a -> b")).toBe(false);
      }
      expect(await store.secrets.getCiphertext(project.id, key)).toBe("secrets-NEW");
      expect((await store.secrets.listHeld(conversation.id))[0]?.ciphertext).toBe("conversation_secrets-NEW");
      expect(await store.servers.getSshKeyCiphertext(server.id)).toBe("servers-NEW");
      expect((await allSealed(store, "bot_pool")).some((r) => r.ciphertext === "bot_pool-NEW")).toBe(true);
      // One rotate row per re-sealed row, naming the actor, never a ciphertext.
      const trail = await store.secrets.listAudit({ projectId: project.id, limit: 50 });
      expect(trail.items.filter((e) => e.action === "rotate")).toEqual([
        expect.objectContaining({ key, action: "rotate", actor: "rotate-key a -> b", projectId: project.id }),
      ]);
      const all = await store.secrets.listAudit({ limit: 200 });
      expect(all.items.some((e) => e.action === "rotate" && e.key === `SSH_KEY@${handle}`)).toBe(true);
      expect(JSON.stringify(all)).not.toMatch(/-NEW|-OLD/);
      await expectAppError(
        store.vault.listSealed("secrets", { afterId: null, limit: 0 }),
        "invalid",
        "invalid_input",
      );
    });

    it("answers the audit trail newest first, by project or by owner, in pages, and records deploy reads", async () => {
      const store = get();
      const alice = await store.users.create({ webLogin: uniq("alice"), name: "Alice" });
      const bob = await store.users.create({ webLogin: uniq("bob"), name: "Bob" });
      const mine = await store.projects.create({ name: `Alice ${uniq()}`, ownerId: alice.id });
      const theirs = await store.projects.create({ name: `Bob ${uniq()}`, ownerId: bob.id });
      const put = (projectId: string, key: string) =>
        store.secrets.put({ projectId, key, kind: "user", ciphertext: "C", length: 1, createdBy: "user:x" });
      await put(mine.id, "ALPHA");
      await put(mine.id, "ALPHA");
      await put(theirs.id, "BETA");
      await store.secrets.recordRead(
        mine.id,
        ["ALPHA", "GENERATED"],
        "deploy 11111111-2222-4333-8444-555555555555",
      );
      await store.secrets.recordRead(mine.id, [], "deploy nothing");

      const page = await store.secrets.listAudit({ projectId: mine.id, limit: 3 });
      expect(page.total).toBe(4);
      // The two reads of one deploy are written together: their order between them is not promised.
      expect(
        page.items
          .slice(0, 2)
          .map((e) => `${e.action} ${e.key}`)
          .sort(),
      ).toEqual(["read ALPHA", "read GENERATED"]);
      expect(page.items[2]).toMatchObject({ action: "replace", key: "ALPHA" });
      expect(page.items[0]).toMatchObject({
        actor: "deploy 11111111-2222-4333-8444-555555555555",
        projectId: mine.id,
      });
      const rest = await store.secrets.listAudit({ projectId: mine.id, limit: 3, offset: 3 });
      expect(rest.items.map((e) => `${e.action} ${e.key}`)).toEqual(["put ALPHA"]);

      const alices = await store.secrets.listAudit({ ownerId: alice.id, limit: 200 });
      expect(alices.total).toBe(4);
      expect(alices.items.every((e) => e.projectId === mine.id)).toBe(true);
      const bobs = await store.secrets.listAudit({ ownerId: bob.id, limit: 200 });
      expect(bobs.items.map((e) => e.key)).toEqual(["BETA"]);
      await expectAppError(store.secrets.listAudit({ projectId: "nope" }), "invalid", "invalid_input");
      await expectAppError(store.secrets.recordRead("nope", ["A"], "x"), "invalid", "invalid_input");
    });
  });
}
