import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../store/index.js";
import { Scheduler } from "./index.js";
import { capturingLogger, until } from "./test-kit.js";

/**
 * Two schedulers sharing one store run a leader job one at a time, and the other takes over as
 * soon as the holder stops cleanly. Run on every store driver.
 */
export function leaderCases(name: string, open: () => Promise<Store>): void {
  describe(`Scheduler leader jobs: ${name}`, () => {
    let opened: Store | undefined;
    // Opening migrates a fresh database: slow on a busy machine, so it is not part of the case.
    beforeAll(async () => {
      opened = await open();
    }, 120_000);
    afterAll(async () => {
      await opened?.close();
    });

    it("runs a leader job on one process at a time, and hands it over when the holder stops", async () => {
      if (!opened) throw new Error("store not open");
      const store = opened;
      const ran: string[] = [];
      let active = 0;
      let most = 0;
      const start = (holder: string) => {
        const scheduler = new Scheduler({
          holder,
          leases: store.jobLeases,
          logger: capturingLogger().logger,
        });
        scheduler.add({
          name: "server-checks",
          intervalMs: 5,
          scope: "leader",
          runAtStart: true,
          async run() {
            active += 1;
            most = Math.max(most, active);
            ran.push(holder);
            await new Promise((resolve) => setTimeout(resolve, 2));
            active -= 1;
          },
        });
        scheduler.start();
        return scheduler;
      };
      const a = start("process-a");
      const b = start("process-b");
      try {
        await until("several runs", () => ran.length >= 8);
        const first = ran[0] as string;
        expect(new Set(ran)).toEqual(new Set([first]));
        expect(most).toBe(1);
        expect(await store.jobLeases.holder("server-checks")).toBe(first);
        const [leader, follower] = first === "process-a" ? [a, b] : [b, a];
        const other = first === "process-a" ? "process-b" : "process-a";
        expect(follower.state()[0]).toMatchObject({ isLeader: false, runs: 0 });

        await leader.stop(1_000);
        // Released at the stop: the other takes over well before the lease would have expired.
        await until("the other process to take over", () => ran.includes(other));
        expect(await store.jobLeases.holder("server-checks")).toBe(other);
        expect(follower.state()[0]?.isLeader).toBe(true);
        expect(most).toBe(1);
      } finally {
        await Promise.all([a.stop(1_000), b.stop(1_000)]);
      }
    }, 60_000);
  });
}
