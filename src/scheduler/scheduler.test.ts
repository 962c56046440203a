import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { JobLeaseRepository } from "../store/index.js";
import type { Job } from "./index.js";
import { leaseTtlMs, MIN_LEASE_TTL_MS, Scheduler } from "./index.js";
import { capturingLogger, until } from "./test-kit.js";

const schedulers: Scheduler[] = [];
function scheduler(extra: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}) {
  const { logger, lines } = capturingLogger();
  const s = new Scheduler({ holder: "test-process", logger, ...extra });
  schedulers.push(s);
  return { s, lines };
}
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(schedulers.splice(0).map((s) => s.stop(1_000)));
});

function job(name: string, run: Job["run"], extra: Partial<Job> = {}): Job {
  return { name, intervalMs: 2, scope: "every-process", run, ...extra };
}

/** Leases in memory with a switch to hand them to someone else, for the lease-loss cases. */
function memoryLeases(): JobLeaseRepository & { stealAll(by: string): void; held: Map<string, string> } {
  const held = new Map<string, string>();
  let thief: string | null = null;
  return {
    held,
    stealAll(by) {
      thief = by;
      for (const key of held.keys()) held.set(key, by);
    },
    async tryAcquire(name, holder) {
      const current = held.get(name);
      if (thief && thief !== holder) held.set(name, thief);
      else if (!current || current === holder) held.set(name, holder);
      return held.get(name) === holder;
    },
    async release(name, holder) {
      if (held.get(name) === holder) held.delete(name);
    },
    async holder(name) {
      return held.get(name) ?? null;
    },
  };
}

describe("Scheduler", () => {
  it("runs a job repeatedly, never two runs of it at once", async () => {
    const { s } = scheduler();
    let active = 0;
    let most = 0;
    let runs = 0;
    s.add(
      job("overlap-check", async () => {
        active += 1;
        most = Math.max(most, active);
        await sleep(10);
        active -= 1;
        runs += 1;
      }),
    );
    s.start();
    await until("five runs", () => runs >= 5);
    expect(most).toBe(1);
    const [state] = s.state();
    expect(state).toMatchObject({
      name: "overlap-check",
      scope: "every-process",
      failures: 0,
      isLeader: true,
    });
    expect(state?.runs).toBeGreaterThanOrEqual(5);
    expect(state?.lastFinishedAt).not.toBeNull();
  });

  it("waits one interval before the first run unless the job runs at start", async () => {
    const { s } = scheduler();
    const ran: string[] = [];
    s.add(job("later", async () => void ran.push("later"), { intervalMs: 60_000 }));
    s.add(job("at-start", async () => void ran.push("at-start"), { intervalMs: 60_000, runAtStart: true }));
    s.start();
    await until("the run at start", () => ran.length > 0);
    await sleep(20);
    expect(ran).toEqual(["at-start"]);
  });

  it("stop aborts a running job's signal and waits for it to finish", async () => {
    const { s } = scheduler();
    let seen: AbortSignal | null = null;
    let isCleanedUp = false;
    s.add(
      job(
        "long-run",
        async (signal) => {
          seen = signal;
          await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
          await sleep(20);
          isCleanedUp = true;
        },
        { runAtStart: true },
      ),
    );
    s.start();
    await until("the job to start", () => seen !== null);
    await s.stop(5_000);
    expect((seen as AbortSignal | null)?.aborted).toBe(true);
    expect(isCleanedUp).toBe(true);
    expect(s.state()[0]?.isRunning).toBe(false);
  });

  it("stop returns at its deadline when a job ignores the signal, and nothing runs afterwards", async () => {
    const { s, lines } = scheduler();
    let starts = 0;
    let release: () => void = () => undefined;
    s.add(
      job(
        "stubborn",
        async () => {
          starts += 1;
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        },
        { runAtStart: true },
      ),
    );
    s.start();
    await until("the job to start", () => starts === 1);
    await s.stop(30);
    expect(s.state()[0]?.isRunning).toBe(true);
    expect(lines.some((l) => l.msg === "scheduled jobs still running at the stop deadline")).toBe(true);
    release();
    await until("the late run to end", () => s.state()[0]?.isRunning === false);
    await sleep(20);
    expect(starts).toBe(1);
  });

  it("leaves no timer behind after a stop", async () => {
    vi.useFakeTimers();
    const { s } = scheduler();
    s.add(job("quiet-a", async () => undefined, { intervalMs: 1_000 }));
    s.add(job("quiet-b", async () => undefined, { intervalMs: 5_000 }));
    s.start();
    expect(vi.getTimerCount()).toBe(2);
    await vi.advanceTimersByTimeAsync(2_500);
    expect(s.state().find((j) => j.name === "quiet-a")?.runs).toBe(2);
    await s.stop(1_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("logs a failing job with its name, keeps scheduling it, and runs the others", async () => {
    const { s, lines } = scheduler();
    let failing = 0;
    let healthy = 0;
    s.add(
      job("always-fails", async () => {
        failing += 1;
        throw new Error("boom");
      }),
    );
    s.add(
      job("keeps-going", async () => {
        healthy += 1;
      }),
    );
    s.start();
    await until("both jobs to run repeatedly", () => failing >= 3 && healthy >= 3);
    const state = s.state().find((j) => j.name === "always-fails");
    expect(state?.failures).toBeGreaterThanOrEqual(3);
    expect(state?.lastError).toBe("boom");
    expect(s.state().find((j) => j.name === "keeps-going")).toMatchObject({ failures: 0, lastError: null });
    const logged = lines.find((l) => l.msg === "scheduled job failed");
    expect(logged?.job).toBe("always-fails");
  });

  it("schedules a job added after start", async () => {
    const { s } = scheduler();
    s.start();
    let runs = 0;
    s.add(
      job("late-comer", async () => {
        runs += 1;
      }),
    );
    await until("the late job to run", () => runs >= 2);
  });

  it("rejects a duplicate or badly named job, a bad interval, and a leader job without leases", () => {
    const { s } = scheduler();
    s.add(job("server-checks", async () => undefined));
    expect(() => s.add(job("server-checks", async () => undefined))).toThrow(/already scheduled/);
    expect(() => s.add(job("Server Checks", async () => undefined))).toThrow(/invalid job name/);
    expect(() => s.add(job("zero", async () => undefined, { intervalMs: 0 }))).toThrow(/invalid interval/);
    expect(() => s.add(job("lead", async () => undefined, { scope: "leader" }))).toThrow(/job leases/);
    expect(() => s.add(job("runs.recover-deploy", async () => undefined))).not.toThrow();
  });

  it("runs a leader job only while it holds the lease, and aborts a run when the lease is lost", async () => {
    const leases = memoryLeases();
    const { s, lines } = scheduler({ leases, minLeaseTtlMs: 9 });
    let runs = 0;
    let lostWith: unknown = null;
    s.add(
      job(
        "lead-only",
        async (signal) => {
          runs += 1;
          if (runs < 3) return;
          await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
          lostWith = signal.reason;
        },
        { scope: "leader" },
      ),
    );
    s.start();
    await until("the third run", () => runs >= 3);
    expect(leases.held.get("lead-only")).toBe("test-process");
    leases.stealAll("other-process");
    await until("the run to be aborted", () => lostWith !== null);
    expect(String(lostWith)).toMatch(/lost the lease/);
    const after = runs;
    await sleep(30);
    expect(runs).toBe(after);
    expect(s.state()[0]?.isLeader).toBe(false);
    expect(lines.some((l) => l.msg === "no longer leads a scheduled job")).toBe(true);
  });

  it("skips a leader run while the store cannot answer, then runs once it can; a stop releases the lease", async () => {
    const leases = memoryLeases();
    let isDown = true;
    const flaky: JobLeaseRepository = {
      ...leases,
      tryAcquire: (name, holder, ttlMs) =>
        isDown ? Promise.reject(new Error("database unavailable")) : leases.tryAcquire(name, holder, ttlMs),
    };
    const { s, lines } = scheduler({ leases: flaky, minLeaseTtlMs: 9 });
    let runs = 0;
    s.add(
      job(
        "needs-store",
        async () => {
          runs += 1;
        },
        { scope: "leader" },
      ),
    );
    s.start();
    await until("a failed lease try", () =>
      lines.some((l) => l.msg === "could not renew a scheduled job's lease"),
    );
    expect(runs).toBe(0);
    isDown = false;
    await until("a run once the store answers", () => runs >= 1);
    expect(leases.held.get("needs-store")).toBe("test-process");
    await s.stop(1_000);
    expect(leases.held.has("needs-store")).toBe(false);
  });

  it("sizes a lease a few intervals long, never under the minimum", () => {
    expect(leaseTtlMs(10)).toBe(MIN_LEASE_TTL_MS);
    expect(leaseTtlMs(60_000)).toBe(180_000);
    expect(leaseTtlMs(10, 1)).toBe(30);
  });
});
