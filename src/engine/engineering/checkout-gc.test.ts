import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, createMetrics, SecretRedactor } from "../../observability/index.js";
import {
  type CheckoutOwners,
  checkoutsGcJob,
  checkoutsRoot,
  collectCheckouts,
  disposeWorkDir,
  processWorkDir,
} from "./checkout-gc.js";

const workDir = mkdtempSync(join(tmpdir(), "checkout-gc-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** A checkout folder last modified `ageMs` ago. */
function checkout(name: string, ageMs: number): string {
  const path = join(checkoutsRoot(workDir), name);
  mkdirSync(join(path, ".git"), { recursive: true });
  writeFileSync(join(path, "README.md"), "left by a crash");
  const at = new Date(Date.now() - ageMs);
  utimesSync(path, at, at);
  return path;
}

describe("the engine's checkouts garbage collection", () => {
  it("removes only the checkouts untouched for the age, and counts them", async () => {
    const stale = checkout("run-1-preparer", 2 * 3_600_000);
    const fresh = checkout("run-2-merge", 60_000);
    const metrics = createMetrics();
    const job = checkoutsGcJob({
      workDir,
      ageMs: 3_600_000,
      intervalMs: 60_000,
      logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
      metrics,
    });
    expect(job).toMatchObject({ name: "gc.checkouts", scope: "every-process" });
    await job.run(new AbortController().signal);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect(await metrics.render()).toMatch(/orchestrator_gc_removed_total\{kind="checkouts"\} 1/);
    // Idempotent, and a work directory without checkouts is no error.
    expect(await collectCheckouts(workDir, 3_600_000)).toBe(0);
    expect(await collectCheckouts(join(workDir, "none"), 0)).toBe(0);
  });

  it("removes the work directories of engines no longer alive, never a live one's", async () => {
    const engineDir = mkdtempSync(join(tmpdir(), "checkout-owners-"));
    const [self, live, killed] = [randomUUID(), randomUUID(), randomUUID()];
    const checkoutOf = (incarnation: string) => {
      const path = join(checkoutsRoot(processWorkDir(engineDir, incarnation)), "checkout-x");
      mkdirSync(join(path, ".git"), { recursive: true });
      return path;
    };
    const [mine, theirs, left] = [checkoutOf(self), checkoutOf(live), checkoutOf(killed)];
    const owners: CheckoutOwners = { engineDir, self, liveIncarnations: async () => new Set([self, live]) };
    const job = checkoutsGcJob({
      workDir: engineDir,
      ageMs: 3_600_000,
      intervalMs: 60_000,
      logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
      owners,
    });
    await job.run(new AbortController().signal);
    expect([existsSync(mine), existsSync(theirs), existsSync(left)]).toEqual([true, true, false]);

    // A clean stop takes its own; the folder stays while another live engine has one in it.
    await disposeWorkDir(owners);
    expect([existsSync(mine), existsSync(theirs)]).toEqual([false, true]);
    // The last engine to stop (the other one has ended) leaves nothing.
    await disposeWorkDir({ engineDir, self: live, liveIncarnations: async () => new Set([live]) });
    expect(existsSync(engineDir)).toBe(false);
    // A second stop finds nothing to remove, and is no error.
    await disposeWorkDir(owners);
  });
});
