import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AppError } from "../../contracts/index.js";
import { type GetStore, makeProject } from "./helpers.js";

let botNumber = Math.floor(Math.random() * 1_000_000_000);

/** A free pool bot with a unique bot id; its "ciphertext" is only a marker the test can recognise. */
async function addBot(get: GetStore, addedBy = "admin:test") {
  botNumber += 1;
  return get().botPool.add({
    botId: String(botNumber),
    botUsername: `pool${botNumber}_bot`,
    ciphertext: `sealed-${botNumber}-${randomBytes(4).toString("hex")}`,
    length: 46,
    addedBy,
  });
}

/** Takes every free bot, so a case starts from an empty pool whatever ran before it. */
async function drain(get: GetStore): Promise<void> {
  for (const bot of await get().botPool.list()) {
    if (bot.projectId === null) await get().botPool.remove(bot.id, "test");
  }
}

/** The pool: one project per bot, taken atomically, given back, waited for. */
export function botPoolCases(get: GetStore): void {
  describe("bot pool", () => {
    it("lists bots masked, free first, and refuses a bot already in it", async () => {
      const bot = await addBot(get);
      expect(bot).toMatchObject({ projectId: null, takenAt: null, addedBy: "admin:test" });
      expect(bot.masked).toContain(bot.botId);
      expect(bot.masked).not.toContain("sealed-");
      const again = await get()
        .botPool.add({ botId: bot.botId, botUsername: "x_bot", ciphertext: "c", length: 46, addedBy: null })
        .catch((e: unknown) => e);
      expect(again).toBeInstanceOf(AppError);
      expect((again as AppError).kind).toBe("conflict");
      expect(JSON.stringify(await get().botPool.list())).not.toContain("sealed-");
    });

    it("gives 20 projects asking at once 20 different bots, and the 21st none", async () => {
      await drain(get);
      const added = [];
      for (let i = 0; i < 20; i++) added.push(await addBot(get));
      const projects = [];
      for (let i = 0; i < 21; i++) projects.push(await makeProject(get()));
      const taken = await Promise.all(projects.map((p) => get().botPool.take(p.id, "test")));
      const given = taken.filter((t) => t !== null);
      expect(given).toHaveLength(20);
      expect(new Set(given.map((t) => t?.bot.botId)).size).toBe(20);
      expect(new Set(given.map((t) => t?.bot.botId))).toEqual(new Set(added.map((b) => b.botId)));
      expect(taken.filter((t) => t === null)).toHaveLength(1);
      // Asking again answers the bot already held, not another.
      const first = projects[0];
      if (!first) throw new Error("no project");
      const held = await get().botPool.heldBy(first.id);
      expect((await get().botPool.take(first.id, "test"))?.bot.id).toBe(held?.bot.id);
      for (const p of projects) await get().botPool.giveBack(p.id, "test");
    });

    it("gives a bot back to the pool, and refuses to remove one a project holds", async () => {
      await drain(get);
      const bot = await addBot(get);
      const project = await makeProject(get());
      const taken = await get().botPool.take(project.id, "test");
      expect(taken?.bot).toMatchObject({ id: bot.id, projectId: project.id });
      expect(taken?.ciphertext).toMatch(/^sealed-/);
      const refused = await get()
        .botPool.remove(bot.id, "test")
        .catch((e: unknown) => e);
      expect((refused as AppError).kind).toBe("conflict");
      expect(await get().botPool.giveBack(project.id, "test")).toMatchObject({ id: bot.id, projectId: null });
      expect(await get().botPool.giveBack(project.id, "test")).toBeNull();
      expect(await get().botPool.heldBy(project.id)).toBeNull();
      expect((await get().botPool.remove(bot.id, "test")).id).toBe(bot.id);
    });

    it("keeps the projects waiting for a bot in order, each once", async () => {
      const a = await makeProject(get());
      const b = await makeProject(get());
      await get().botPool.wait(a.id);
      await get().botPool.wait(b.id);
      await get().botPool.wait(a.id);
      const waiting = await get().botPool.waiting();
      expect(waiting.filter((id) => id === a.id || id === b.id)).toEqual([a.id, b.id]);
      await get().botPool.stopWaiting(a.id);
      await get().botPool.stopWaiting(b.id);
      expect(await get().botPool.waiting()).not.toContain(a.id);
    });
  });
}
