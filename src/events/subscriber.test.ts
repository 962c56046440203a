import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { type Bus, InProcessBus } from "../bus/index.js";
import type { RunEvent } from "../contracts/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { RunEventSubscriber, RunJournal } from "./index.js";

const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
let store: Store;
let bus: InProcessBus;
let runId: string;
let names = 0;
const started: RunEventSubscriber[] = [];

beforeAll(async () => {
  store = await openTestStore();
  bus = new InProcessBus();
  const project = await store.projects.create({ name: "Subscribed" });
  runId = (await store.runs.create({ projectId: project.id, kind: "engineering" })).id;
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop(5_000)));
});
afterAll(async () => {
  await bus.close();
  await store.close();
});

/** A bus whose publishes are all lost (the process died between the insert and the publish). */
function lossyBus(): Bus {
  return new Proxy(bus, {
    get(target, key, receiver) {
      if (key === "publish") return () => Promise.reject(new Error("publish lost"));
      return Reflect.get(target, key, receiver);
    },
  });
}

function subscriber(opts: {
  name: string;
  handle: (event: RunEvent) => Promise<void>;
  store?: Store;
  gapHoldMs?: number;
}): RunEventSubscriber {
  const s = new RunEventSubscriber({
    name: opts.name,
    types: ["run.log"],
    handle: opts.handle,
    store: opts.store ?? store,
    bus,
    logger,
    gapHoldMs: opts.gapHoldMs ?? 60_000,
    sweepEveryMs: 50,
    retryBaseMs: 20,
    retryMaxMs: 100,
  });
  started.push(s);
  return s;
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  deadlineMs = 10_000,
): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A fresh subscriber name whose cursor starts at the log's current end (other cases wrote before). */
async function freshName(): Promise<string> {
  const name = `test-subscriber-${++names}`;
  const all = await store.runEvents.listAfter(0, 5_000);
  await store.eventCursors.advance(name, all.at(-1)?.seq ?? 0);
  return name;
}

function log(journal: RunJournal, message: string): Promise<RunEvent> {
  return journal.append({ runId, type: "run.log", data: { message } });
}

const messageOf = (e: RunEvent): string => (e.type === "run.log" ? e.data.message : e.type);

describe("RunEventSubscriber", () => {
  it("replays what was written while it was down, and not again after a restart", async () => {
    const name = await freshName();
    const journal = new RunJournal({ store, bus, logger });
    const seen: string[] = [];
    await log(journal, "a");
    await log(journal, "b");
    await journal.append({ runId, type: "run.stage_changed", data: { stage: "architect" } });
    const first = subscriber({ name, handle: async (e) => void seen.push(messageOf(e)) });
    await first.start();
    expect(seen).toEqual(["a", "b"]);
    const last = await log(journal, "c");
    await until("the live event", () => seen.includes("c"));
    await until("the cursor over c", async () => (await store.eventCursors.get(name)) === last.seq);
    await first.stop(5_000);

    const whileDown = await log(journal, "d");
    const again = subscriber({ name, handle: async (e) => void seen.push(messageOf(e)) });
    await again.start();
    expect(seen).toEqual(["a", "b", "c", "d"]);
    expect(await store.eventCursors.get(name)).toBe(whileDown.seq);
  });

  it("handles an event whose publish was lost, from the store", async () => {
    const name = await freshName();
    const seen: string[] = [];
    const s = subscriber({ name, handle: async (e) => void seen.push(messageOf(e)) });
    await s.start();
    const lost = await log(new RunJournal({ store, bus: lossyBus(), logger }), "unpublished");
    await until("the unpublished event", () => seen.includes("unpublished"));
    await until("the cursor over it", async () => (await store.eventCursors.get(name)) === lost.seq);
    expect(seen).toEqual(["unpublished"]);
  });

  it("holds the cursor at a seq committed late, then moves over it once it is seen", async () => {
    const name = await freshName();
    const hidden = new Set<number>();
    // The store as a reader sees it while one insert has not committed yet.
    const view: Store = {
      ...store,
      runEvents: {
        ...store.runEvents,
        listAfter: async (after, limit) =>
          (await store.runEvents.listAfter(after, limit)).filter((e) => !hidden.has(e.seq)),
      },
    };
    const journal = new RunJournal({ store, bus: lossyBus(), logger });
    const before = await store.eventCursors.get(name);
    const seen: string[] = [];
    const s = subscriber({ name, store: view, handle: async (e) => void seen.push(messageOf(e)) });
    const late = await log(journal, "late");
    hidden.add(late.seq);
    await log(journal, "early");
    await s.start();
    await until("the event after the gap", () => seen.includes("early"));
    // Several sweeps later the cursor still waits below the missing seq.
    await new Promise((r) => setTimeout(r, 300));
    expect(await store.eventCursors.get(name)).toBe(before);
    hidden.delete(late.seq);
    s.wake();
    await until("the late event", () => seen.includes("late"));
    await until("the cursor past both", async () => (await store.eventCursors.get(name)) === late.seq + 1);
    expect(seen).toEqual(["early", "late"]);
  });

  it("takes a seq missing longer than the hold time as skipped", async () => {
    const name = await freshName();
    const journal = new RunJournal({ store, bus: lossyBus(), logger });
    const gone = await log(journal, "rolled back");
    const after = await log(journal, "after");
    const view: Store = {
      ...store,
      runEvents: {
        ...store.runEvents,
        listAfter: async (a, limit) =>
          (await store.runEvents.listAfter(a, limit)).filter((e) => e.seq !== gone.seq),
      },
    };
    const seen: string[] = [];
    const s = subscriber({
      name,
      store: view,
      gapHoldMs: 100,
      handle: async (e) => void seen.push(messageOf(e)),
    });
    await s.start();
    await until(
      "the cursor past the skipped seq",
      async () => (await store.eventCursors.get(name)) === after.seq,
    );
    expect(seen).toEqual(["after"]);
  });

  it("retries a failing handler and never moves the cursor past the event it failed on", async () => {
    const name = await freshName();
    const journal = new RunJournal({ store, bus, logger });
    let isBroken = true;
    let failures = 0;
    const seen: string[] = [];
    const s = subscriber({
      name,
      handle: async (e) => {
        if (messageOf(e) === "poison" && isBroken) {
          failures++;
          throw new Error("handler broke");
        }
        seen.push(messageOf(e));
      },
    });
    await s.start();
    const poison = await log(journal, "poison");
    const next = await log(journal, "next");
    await until("several failed attempts", () => failures >= 3);
    await until("the event after it", () => seen.includes("next"));
    expect(await store.eventCursors.get(name)).toBeLessThan(poison.seq);
    isBroken = false;
    await until("the retried event", () => seen.includes("poison"));
    await until("the cursor past both", async () => (await store.eventCursors.get(name)) === next.seq);
    expect(seen.filter((m) => m === "poison")).toHaveLength(1);
  });

  it("keeps handling the events after one whose handler fails, from the store too", async () => {
    const name = await freshName();
    // Nothing is published: every event reaches the subscriber through its sweeps of the store.
    const journal = new RunJournal({ store, bus: lossyBus(), logger });
    let isBroken = true;
    const seen: string[] = [];
    const s = subscriber({
      name,
      handle: async (e) => {
        if (messageOf(e) === "busy" && isBroken) throw new Error("the project is busy");
        seen.push(messageOf(e));
      },
    });
    const busy = await log(journal, "busy");
    await log(journal, "other project");
    await s.start();
    const later = await log(journal, "later");
    await until(
      "the events after the failing one",
      () => seen.includes("other project") && seen.includes("later"),
    );
    expect(await store.eventCursors.get(name)).toBe(busy.seq - 1);
    isBroken = false;
    await until("the retried event", () => seen.includes("busy"));
    await until("the cursor past all", async () => (await store.eventCursors.get(name)) === later.seq);
    expect(seen).toEqual(["other project", "later", "busy"]);
  });
});
