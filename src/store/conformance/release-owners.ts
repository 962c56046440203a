import { describe, expect, it } from "vitest";
import type { ReleaseClaim } from "../store.js";
import { expectAppError, type GetStore, ISO, MISSING_ID, makeProject, uniq } from "./helpers.js";

/** Ownership of local releases: every change of hands is a compare-and-set. */
export function releaseOwnerCases(get: GetStore): void {
  describe("release owners", () => {
    const engine = (name: string) => ({ id: uniq(name), incarnation: uniq("inc") });
    const claimBy = (owner: { id: string; incarnation: string }, over: Partial<ReleaseClaim> = {}) => ({
      owner,
      host: "box",
      release: "0123456789ab-20250101120000",
      port: 31_001,
      handover: null,
      ...over,
    });

    it("takes an unowned project once, even when two engines race for it", async () => {
      const project = await makeProject(get());
      expect(await get().releaseOwners.get(project.id)).toBeNull();
      const [a, b] = [engine("a"), engine("b")];
      const results = await Promise.all([
        get().releaseOwners.claim(project.id, null, claimBy(a)),
        get().releaseOwners.claim(project.id, null, claimBy(b)),
      ]);
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      const stored = await get().releaseOwners.get(project.id);
      expect(stored).toEqual(winners[0]);
      expect(stored).toMatchObject({
        projectId: project.id,
        release: "0123456789ab-20250101120000",
        port: 31_001,
        host: "box",
        pid: null,
        handover: null,
        version: 1,
      });
      expect([a, b]).toContainEqual(stored?.owner);
      expect(stored?.updatedAt).toMatch(ISO);
      expect((await get().releaseOwners.list()).map((r) => r.projectId)).toContain(project.id);
    });

    it("changes hands only from the version the taker read", async () => {
      const project = await makeProject(get());
      const [a, b, c] = [engine("a"), engine("b"), engine("c")];
      const first = await get().releaseOwners.claim(project.id, null, claimBy(a));
      expect(first).not.toBeNull();
      const seen = first as NonNullable<typeof first>;
      const [byB, byC] = await Promise.all([
        get().releaseOwners.claim(project.id, seen, claimBy(b, { handover: a, release: null, port: null })),
        get().releaseOwners.claim(project.id, seen, claimBy(c, { handover: a })),
      ]);
      expect([byB, byC].filter((r) => r !== null)).toHaveLength(1);
      const now = await get().releaseOwners.get(project.id);
      expect(now?.version).toBe(seen.version + 1);
      expect(now?.handover).toEqual(a);
      // A stale read can no longer take it.
      expect(await get().releaseOwners.claim(project.id, seen, claimBy(a))).toBeNull();
    });

    it("records the pid only for the owner, without moving the version", async () => {
      const project = await makeProject(get());
      const [a, b] = [engine("a"), engine("b")];
      const claimed = await get().releaseOwners.claim(project.id, null, claimBy(a));
      expect(await get().releaseOwners.setPid(project.id, b, 4242)).toBe(false);
      expect(await get().releaseOwners.setPid(project.id, { ...a, incarnation: "older" }, 4242)).toBe(false);
      expect(await get().releaseOwners.setPid(project.id, a, 4242)).toBe(true);
      const stored = await get().releaseOwners.get(project.id);
      expect(stored).toMatchObject({ pid: 4242, version: claimed?.version });
      // A new claim starts without a pid: the new owner's process has not spawned yet.
      const taken = await get().releaseOwners.claim(project.id, stored, claimBy(b));
      expect(taken?.pid).toBeNull();
    });

    it("clears a handover only for the previous owner that names itself", async () => {
      const project = await makeProject(get());
      const [a, b] = [engine("a"), engine("b")];
      const first = await get().releaseOwners.claim(project.id, null, claimBy(a));
      const taken = await get().releaseOwners.claim(project.id, first, claimBy(b, { handover: a }));
      expect(taken).toMatchObject({ owner: b, handover: a });
      expect(await get().releaseOwners.ackHandover(project.id, b)).toBe(false);
      expect(await get().releaseOwners.ackHandover(project.id, { ...a, incarnation: "other" })).toBe(false);
      expect(await get().releaseOwners.ackHandover(project.id, a)).toBe(true);
      const acked = await get().releaseOwners.get(project.id);
      expect(acked).toMatchObject({ owner: b, handover: null, version: (taken?.version ?? 0) + 1 });
      expect(await get().releaseOwners.ackHandover(project.id, a)).toBe(false);
    });

    it("gives a project up only by its owner, keeping what should run", async () => {
      const project = await makeProject(get());
      const [a, b] = [engine("a"), engine("b")];
      await get().releaseOwners.claim(project.id, null, claimBy(a));
      await get().releaseOwners.setPid(project.id, a, 77);
      expect(await get().releaseOwners.relinquish(project.id, b)).toBe(false);
      expect(await get().releaseOwners.relinquish(project.id, a)).toBe(true);
      expect(await get().releaseOwners.get(project.id)).toMatchObject({
        owner: null,
        pid: null,
        release: "0123456789ab-20250101120000",
        port: 31_001,
        host: "box",
        version: 2,
      });
      expect(await get().releaseOwners.relinquish(project.id, a)).toBe(false);
      // Nobody's: any engine takes it from the version it read.
      const seen = await get().releaseOwners.get(project.id);
      expect(await get().releaseOwners.claim(project.id, seen, claimBy(b))).toMatchObject({ owner: b });
    });

    it("refuses an unknown project and a malformed claim", async () => {
      await expectAppError(get().releaseOwners.claim(MISSING_ID, null, claimBy(engine("a"))), "not_found");
      await expectAppError(get().releaseOwners.get("not-a-uuid"), "not_found");
      const project = await makeProject(get());
      const bad = await expectAppError(
        get().releaseOwners.claim(project.id, null, claimBy(engine("a"), { port: 0 })),
        "invalid",
      );
      expect(bad.details.map((d) => d.path)).toContain("port");
    });
  });
}
