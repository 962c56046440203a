import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { expectAppError, type GetStore, uniq } from "./helpers.js";

/** Leases of scheduled jobs: one holder at a time, by the database's clock. */
export function jobLeaseCases(get: GetStore): void {
  describe("job leases", () => {
    it("gives a free lease to the first holder, renews it for the same holder, refuses another", async () => {
      const job = uniq("job");
      expect(await get().jobLeases.holder(job)).toBeNull();
      expect(await get().jobLeases.tryAcquire(job, "a", 60_000)).toBe(true);
      expect(await get().jobLeases.tryAcquire(job, "b", 60_000)).toBe(false);
      expect(await get().jobLeases.tryAcquire(job, "a", 60_000)).toBe(true);
      expect(await get().jobLeases.holder(job)).toBe("a");
    });

    it("hands an expired lease to another holder", async () => {
      const job = uniq("job");
      expect(await get().jobLeases.tryAcquire(job, "a", 1)).toBe(true);
      await sleep(20);
      expect(await get().jobLeases.holder(job)).toBeNull();
      expect(await get().jobLeases.tryAcquire(job, "b", 60_000)).toBe(true);
      expect(await get().jobLeases.tryAcquire(job, "a", 60_000)).toBe(false);
      expect(await get().jobLeases.holder(job)).toBe("b");
    });

    it("releases only the holder's own lease, freeing it at once", async () => {
      const job = uniq("job");
      expect(await get().jobLeases.tryAcquire(job, "a", 60_000)).toBe(true);
      await get().jobLeases.release(job, "b");
      expect(await get().jobLeases.holder(job)).toBe("a");
      await get().jobLeases.release(job, "a");
      expect(await get().jobLeases.holder(job)).toBeNull();
      expect(await get().jobLeases.tryAcquire(job, "b", 60_000)).toBe(true);
      // Releasing a lease nobody holds is harmless.
      await get().jobLeases.release(uniq("job"), "a");
    });

    it("lets exactly one of many racing holders take a free lease", async () => {
      const job = uniq("job");
      const holders = ["a", "b", "c", "d", "e"];
      const won = await Promise.all(holders.map((h) => get().jobLeases.tryAcquire(job, h, 60_000)));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await get().jobLeases.holder(job)).toBe(holders[won.indexOf(true)]);
    });

    it("rejects empty names and a ttl that is not a positive integer", async () => {
      await expectAppError(get().jobLeases.tryAcquire("", "a", 1_000), "invalid", "invalid_input");
      await expectAppError(get().jobLeases.tryAcquire(uniq("job"), "", 1_000), "invalid", "invalid_input");
      await expectAppError(get().jobLeases.tryAcquire(uniq("job"), "a", 0), "invalid", "invalid_input");
      await expectAppError(get().jobLeases.tryAcquire(uniq("job"), "a", 1.5), "invalid", "invalid_input");
    });
  });
}
