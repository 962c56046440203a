import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { expectAppError, type GetStore, ISO, uniq } from "./helpers.js";

/** Heartbeats of running processes. */
export function instanceCases(get: GetStore): void {
  describe("instances", () => {
    it("records a heartbeat, renews it, and says alive by the database's clock", async () => {
      const id = uniq("node");
      expect(await get().instances.get(id)).toBeNull();
      const first = await get().instances.beat({
        id,
        roles: ["workers"],
        incarnation: "a",
        host: "box",
        pid: 42,
        ttlMs: 60_000,
      });
      expect(first).toMatchObject({ id, roles: ["workers"], incarnation: "a", alive: true, probeUrl: null });
      expect(first.expiresAt).toMatch(ISO);
      await sleep(5);
      const again = await get().instances.beat({
        id,
        roles: ["workers"],
        incarnation: "a",
        host: "box",
        pid: 42,
        ttlMs: 60_000,
        probeUrl: "http://box:9100",
      });
      // Same incarnation: the start stays, the heartbeat moves on.
      expect(again.startedAt).toBe(first.startedAt);
      expect(Date.parse(again.heartbeatAt)).toBeGreaterThan(Date.parse(first.heartbeatAt));
      expect(again.probeUrl).toBe("http://box:9100");
      expect(await get().instances.get(id)).toEqual(again);
      expect((await get().instances.list()).map((i) => i.id)).toContain(id);
    });

    it("sees a lease expire and a restart as a new incarnation with a new start", async () => {
      const id = uniq("engine");
      const beat = { id, roles: ["engine" as const], host: "box", pid: 1 };
      const first = await get().instances.beat({ ...beat, incarnation: "a", ttlMs: 30 });
      await sleep(80);
      expect((await get().instances.get(id))?.alive).toBe(false);
      const restarted = await get().instances.beat({ ...beat, incarnation: "b", ttlMs: 60_000 });
      expect(restarted).toMatchObject({ incarnation: "b", alive: true });
      expect(Date.parse(restarted.startedAt)).toBeGreaterThan(Date.parse(first.startedAt));
    });

    it("ends only the incarnation that asks", async () => {
      const id = uniq("api");
      const beat = { id, roles: ["api" as const], host: "box", pid: 1, ttlMs: 60_000 };
      await get().instances.beat({ ...beat, incarnation: "new" });
      await get().instances.end(id, "old");
      expect(await get().instances.get(id)).not.toBeNull();
      await get().instances.end(id, "new");
      expect(await get().instances.get(id)).toBeNull();
    });

    it("refuses a heartbeat without roles or with a bad ttl", async () => {
      const base = { id: uniq("x"), incarnation: "a", host: "h", pid: 1 };
      const noRoles = await expectAppError(
        get().instances.beat({ ...base, roles: [], ttlMs: 1000 }),
        "invalid",
      );
      expect(noRoles.details.map((d) => d.path)).toContain("roles");
      await expectAppError(get().instances.beat({ ...base, roles: ["engine"], ttlMs: 0 }), "invalid");
    });
  });
}
