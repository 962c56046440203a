import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, createMetrics, SecretRedactor } from "../../observability/index.js";
import { checkoutsGcJob, checkoutsRoot, collectCheckouts } from "./checkout-gc.js";

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
});
