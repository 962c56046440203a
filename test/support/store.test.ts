import type { PGlite } from "@electric-sql/pglite";
import { describe, expect, it } from "vitest";
import { openTestStore, watchTestStoreClients } from "./store.js";

/** A project with a run and an event: rows in three tables and a step of the events' sequence. */
async function fill(store: Awaited<ReturnType<typeof openTestStore>>) {
  const project = await store.projects.create({ name: "Kept", slug: "kept" });
  const run = await store.runs.create({ projectId: project.id, kind: "engineering" });
  const event = await store.runEvents.append({ runId: run.id, type: "run.log", data: { message: "hello" } });
  return { project, run, event };
}

describe("test stores", () => {
  it("each opens as the snapshot left it, whatever the store before it wrote", async () => {
    const first = await openTestStore();
    const seeded = await first.agentConfigs.list();
    const before = await fill(first);
    await first.close();

    const second = await openTestStore();
    try {
      expect((await second.projects.list({ limit: 10, offset: 0 })).items).toEqual([]);
      expect(await second.agentConfigs.list()).toEqual(seeded);
      // The sequence starts over: the same first event number as in the store before.
      const again = await fill(second);
      expect(again.event.seq).toBe(before.event.seq);
    } finally {
      await second.close();
    }
  });

  it("tells a watcher of each store's database, a kept one given again included", async () => {
    const seen: unknown[] = [];
    const unwatch = watchTestStoreClients((client) => seen.push(client));
    try {
      await (await openTestStore()).close();
      const second = await openTestStore();
      await second.close();
    } finally {
      unwatch();
    }
    // The second store got the first one's database back, and the watcher heard of it both times.
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(seen[0]);
  });

  it("fails the next open with its cause when a kept database cannot be set back", async () => {
    let kept: PGlite | undefined;
    const unwatch = watchTestStoreClients((client) => {
      kept = client;
    });
    try {
      await (await openTestStore()).close();
    } finally {
      unwatch();
    }
    // A schema the restore does not expect: the table it refills is gone.
    await kept?.exec("DROP TABLE agent_configs CASCADE");
    const failed = await openTestStore().then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failed?.message).toBe("a kept test database could not be set back to the snapshot");
    expect(String(failed?.cause)).toMatch(/agent_configs/);
    expect(kept?.closed).toBe(true);
  });

  it("a closed store answers as closed, even once another store has its database", async () => {
    const first = await openTestStore();
    await first.close();
    const second = await openTestStore();
    try {
      await expect(first.projects.create({ name: "Late", slug: "late" })).rejects.toThrow();
      expect((await second.projects.list({ limit: 10, offset: 0 })).items).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
