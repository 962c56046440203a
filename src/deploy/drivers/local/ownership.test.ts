/**
 * Release ownership among engines on a real store (PGlite), without processes: who may take a
 * project, when a takeover waits for a live owner, what a gone owner leaves to end, and what is
 * adoptable. Engines are heartbeats in `instances`; one without a record is gone.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../../../test/support/store.js";
import { AppError } from "../../../contracts/index.js";
import { createLogger, SecretRedactor } from "../../../observability/index.js";
import type { OwnerRef, ReleaseOwner, Store } from "../../../store/index.js";
import { ReleaseOwnership } from "./ownership.js";

const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
const RELEASE = "0123456789ab-20250101120000";
const OTHER_RELEASE = "ba9876543210-20250101130000";
let store: Store;

beforeAll(async () => {
  store = await openTestStore();
});
afterAll(async () => {
  await store?.close();
});

const engine = (): OwnerRef => ({ id: `engine-${randomUUID().slice(0, 8)}`, incarnation: randomUUID() });

/** Makes `ref` a live process (a heartbeat with a long lease). */
async function live(ref: OwnerRef): Promise<OwnerRef> {
  await store.instances.beat({ ...ref, roles: ["engine"], host: "box", pid: 1, ttlMs: 60_000 });
  return ref;
}

function ownership(
  self: OwnerRef,
  over: { handoverDeadlineMs?: number; handoverGraceMs?: number; leaseTtlMs?: number; host?: string } = {},
) {
  return new ReleaseOwnership({ store, self, leaseTtlMs: 60_000, logger, pollMs: 20, host: "box", ...over });
}

async function project(): Promise<string> {
  return (await store.projects.create({ name: `Owned ${randomUUID().slice(0, 8)}` })).id;
}

/** A record as an engine that ran the release left it: owner, host, pid. */
async function ownedBy(owner: OwnerRef, opts: { host?: string; pid?: number } = {}): Promise<string> {
  const projectId = await project();
  await store.releaseOwners.claim(projectId, null, {
    owner,
    host: opts.host ?? "box",
    release: RELEASE,
    port: 31_500,
    handover: null,
  });
  if (opts.pid) await store.releaseOwners.setPid(projectId, owner, opts.pid);
  return projectId;
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined>): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("ReleaseOwnership.take", () => {
  it("takes a project nobody holds, and takes it again from itself without a handover", async () => {
    const self = await live(engine());
    const projectId = await project();
    const mine = ownership(self);
    expect(await mine.take(projectId, { release: RELEASE, port: 31_000 })).toEqual({ leftoverPid: null });
    const first = await store.releaseOwners.get(projectId);
    expect(first).toMatchObject({ owner: self, release: RELEASE, port: 31_000, host: "box", handover: null });
    await store.releaseOwners.setPid(projectId, self, 555);
    // Its own process is stopped by the driver that supervises it: nothing to end as a leftover.
    expect(await mine.take(projectId, { release: OTHER_RELEASE, port: 31_000 })).toEqual({
      leftoverPid: null,
    });
    expect(await store.releaseOwners.get(projectId)).toMatchObject({
      owner: self,
      release: OTHER_RELEASE,
      handover: null,
      pid: null,
      version: (first?.version ?? 0) + 1,
    });
  });

  it("takes from a gone owner at once and returns the pid it left on this machine only", async () => {
    const self = await live(engine());
    const here = await ownedBy(engine(), { pid: 4242 });
    const elsewhere = await ownedBy(engine(), { pid: 4343, host: "other-box" });
    expect(await ownership(self).take(here, { release: RELEASE, port: 31_500 })).toEqual({
      leftoverPid: 4242,
    });
    expect(await ownership(self).take(elsewhere, { release: RELEASE, port: 31_500 })).toEqual({
      leftoverPid: null,
    });
    expect((await store.releaseOwners.get(here))?.owner).toEqual(self);
  });

  it("counts an owner that restarted (same id, new incarnation) as gone", async () => {
    const self = await live(engine());
    const node = engine();
    const projectId = await ownedBy(node, { pid: 77 });
    await live({ id: node.id, incarnation: "after-restart" });
    expect(await ownership(self).take(projectId, { release: RELEASE, port: 31_500 })).toEqual({
      leftoverPid: 77,
    });
    expect((await store.releaseOwners.get(projectId))?.handover).toBeNull();
  });

  it("hands over from a live owner: waits until it says its copy is stopped, then owns it", async () => {
    const [self, owner] = [await live(engine()), await live(engine())];
    const projectId = await ownedBy(owner, { pid: 900 });
    const taking = ownership(self).take(projectId, { release: OTHER_RELEASE, port: 31_500 });
    // The old owner's periodic check sees the mark naming it, stops its copy and clears it.
    const marked = await until("the handover mark", async () => {
      const record = await store.releaseOwners.get(projectId);
      return record?.handover?.id === owner.id ? record : null;
    });
    expect(marked.owner).toEqual(self);
    expect(await ownership(owner).acknowledge(projectId)).toBe(true);
    expect(await taking).toEqual({ leftoverPid: null });
    expect(await store.releaseOwners.get(projectId)).toMatchObject({
      owner: self,
      handover: null,
      release: OTHER_RELEASE,
    });
  });

  it("waits as long as the owner's own lease asks, not its own shorter one", async () => {
    // The owner renews a 60 s lease and checks for takeovers every 20 s; this engine's lease is 100 ms.
    const [self, owner] = [await live(engine()), await live(engine())];
    const projectId = await ownedBy(owner);
    const taking = ownership(self, { leaseTtlMs: 100, handoverGraceMs: 100 }).take(projectId, {
      release: OTHER_RELEASE,
      port: 31_500,
    });
    await until("the handover mark", async () => (await store.releaseOwners.get(projectId))?.handover);
    // Well past two of this engine's leases and the grace (300 ms): the owner's check comes later.
    await sleep(1_000);
    expect(await ownership(owner).acknowledge(projectId)).toBe(true);
    expect(await taking).toEqual({ leftoverPid: null });
    expect((await store.releaseOwners.get(projectId))?.owner).toEqual(self);
  });

  it("when the live owner dies during the handover, returns the pid it left", async () => {
    const [self, owner] = [await live(engine()), await live(engine())];
    const projectId = await ownedBy(owner, { pid: 901 });
    const taking = ownership(self).take(projectId, { release: RELEASE, port: 31_500 });
    await until("the handover mark", async () => (await store.releaseOwners.get(projectId))?.handover);
    await store.instances.end(owner.id, owner.incarnation);
    expect(await taking).toEqual({ leftoverPid: 901 });
  });

  it("gives up with handover_timeout when a live owner never stops its copy", async () => {
    const [self, owner] = [await live(engine()), await live(engine())];
    const projectId = await ownedBy(owner);
    const error = await ownership(self, { handoverDeadlineMs: 200 })
      .take(projectId, { release: RELEASE, port: 31_500 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ kind: "unavailable", code: "handover_timeout" });
    expect((error as AppError).message).toContain(owner.id);
  });

  it("ends the wait with release_taken_over when another engine takes the project meanwhile", async () => {
    const [self, owner, third] = [await live(engine()), await live(engine()), await live(engine())];
    const projectId = await ownedBy(owner);
    const taking = ownership(self).take(projectId, { release: RELEASE, port: 31_500 });
    const marked = await until("the handover mark", async () => {
      const record = await store.releaseOwners.get(projectId);
      return record?.handover ? record : null;
    });
    await store.releaseOwners.claim(projectId, marked, {
      owner: third,
      host: "box",
      release: RELEASE,
      port: 31_500,
      handover: null,
    });
    await expect(taking).rejects.toMatchObject({ kind: "conflict", code: "release_taken_over" });
  });

  it("finishes a handover still pending for another engine before taking the project", async () => {
    const [self, first, second] = [await live(engine()), await live(engine()), await live(engine())];
    const projectId = await ownedBy(first);
    const seen = (await store.releaseOwners.get(projectId)) as ReleaseOwner;
    // `second` took it from live `first`, which has not stopped its copy yet.
    await store.releaseOwners.claim(projectId, seen, {
      owner: second,
      host: "box",
      release: RELEASE,
      port: 31_500,
      handover: first,
    });
    const taking = ownership(self).take(projectId, { release: OTHER_RELEASE, port: 31_500 });
    await sleep(100);
    expect((await store.releaseOwners.get(projectId))?.owner).toEqual(second);
    expect(await ownership(first).acknowledge(projectId)).toBe(true);
    // Then `self` takes it from live `second`, which must hand over in turn.
    await until("the next handover mark", async () =>
      (await store.releaseOwners.get(projectId))?.handover?.id === second.id ? true : null,
    );
    expect(await ownership(second).acknowledge(projectId)).toBe(true);
    await taking;
    expect(await store.releaseOwners.get(projectId)).toMatchObject({ owner: self, handover: null });
  });
});

describe("ReleaseOwnership adoption", () => {
  it("lists what nobody live holds: gone or given-up owners, not torn-down projects or pending handovers", async () => {
    const self = await live(engine());
    const liveOwner = await live(engine());
    const gone = await ownedBy(engine());
    const given = await ownedBy(liveOwner);
    await store.releaseOwners.relinquish(given, liveOwner);
    const held = await ownedBy(liveOwner);
    const mine = await ownedBy(self);
    const tornDown = await ownedBy(engine());
    const tornSeen = await store.releaseOwners.get(tornDown);
    await store.releaseOwners.claim(tornDown, tornSeen, {
      owner: engine(),
      host: "box",
      release: null,
      port: null,
      handover: null,
    });
    // Its new owner died before the live previous one stopped its copy: wait for that one.
    const pending = await ownedBy(liveOwner);
    const pendingSeen = await store.releaseOwners.get(pending);
    await store.releaseOwners.claim(pending, pendingSeen, {
      owner: engine(),
      host: "box",
      release: RELEASE,
      port: 31_500,
      handover: liveOwner,
    });
    const adoptable = (await ownership(self).adoptable()).map((r) => r.projectId);
    expect(adoptable).toEqual(expect.arrayContaining([gone, given]));
    for (const id of [held, mine, tornDown, pending]) expect(adoptable).not.toContain(id);
  });

  it("adopts only from the record as read, so a change meanwhile wins", async () => {
    const [self, other] = [await live(engine()), await live(engine())];
    const projectId = await ownedBy(engine(), { pid: 321 });
    const seen = (await store.releaseOwners.get(projectId)) as ReleaseOwner;
    expect(await ownership(other).take(projectId, { release: OTHER_RELEASE, port: 31_500 })).toEqual({
      leftoverPid: 321,
    });
    expect(await ownership(self).adopt(projectId, seen, { release: RELEASE, port: 31_500 })).toBeNull();
    expect((await store.releaseOwners.get(projectId))?.owner).toEqual(other);

    const again = await ownedBy(engine(), { pid: 654 });
    const current = (await store.releaseOwners.get(again)) as ReleaseOwner;
    expect(await ownership(self).adopt(again, current, { release: RELEASE, port: 31_500 })).toEqual({
      leftoverPid: 654,
    });
    expect((await store.releaseOwners.get(again))?.owner).toEqual(self);
  });

  it("a clean stop gives up what it owns and acknowledges handovers waiting on it", async () => {
    const [self, taker] = [await live(engine()), await live(engine())];
    const owned = await ownedBy(self, { pid: 10 });
    const lost = await ownedBy(self);
    const lostSeen = await store.releaseOwners.get(lost);
    await store.releaseOwners.claim(lost, lostSeen, {
      owner: taker,
      host: "box",
      release: RELEASE,
      port: 31_500,
      handover: self,
    });
    const given = await ownership(self).giveUpAll();
    expect(given).toContain(owned);
    expect(given).not.toContain(lost);
    expect(await store.releaseOwners.get(owned)).toMatchObject({ owner: null, pid: null, release: RELEASE });
    expect(await store.releaseOwners.get(lost)).toMatchObject({ owner: taker, handover: null });
  });
});
