import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../contracts/index.js";
import { expectAppError, type GetStore, ISO, MISSING_ID, makeProject, uniq } from "./helpers.js";

function messages(events: RunEvent[]): string[] {
  return events.map((e) => (e.type === "run.log" ? e.data.message : `(${e.type})`));
}

/** The run event log (typed payloads, per-run and global reads) and subscribers' cursors. */
export function eventLogCases(get: GetStore): void {
  describe("run events", () => {
    it("appends in seq order and reads after a seq with a limit", async () => {
      const project = await makeProject(get());
      const [run, other] = await Promise.all([
        get().runs.create({ projectId: project.id, kind: "engineering" }),
        get().runs.create({ projectId: project.id, kind: "engineering" }),
      ]);
      const appended = [];
      for (let i = 0; i < 5; i++) {
        appended.push(
          await get().runEvents.append({ runId: run.id, type: "run.log", data: { message: `m${i}` } }),
        );
        await get().runEvents.append({ runId: other.id, type: "run.log", data: { message: `o${i}` } });
      }
      expect(appended[0]?.at).toMatch(ISO);
      const all = await get().runEvents.list(run.id, {});
      expect(messages(all)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
      const seqs = all.map((e) => e.seq);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(5);
      const after = await get().runEvents.list(run.id, { afterSeq: seqs[1] });
      expect(messages(after)).toEqual(["m2", "m3", "m4"]);
      const limited = await get().runEvents.list(run.id, { afterSeq: seqs[1], limit: 2 });
      expect(messages(limited)).toEqual(["m2", "m3"]);
      expect(await get().runEvents.list(run.id, { afterSeq: seqs[4] })).toEqual([]);
    });

    it("keeps each type's payload as written and refuses a payload that does not fit its type", async () => {
      const project = await makeProject(get());
      const run = await get().runs.create({ projectId: project.id, kind: "engineering" });
      const changed = await get().runEvents.append({
        runId: run.id,
        type: "run.status_changed",
        data: { from: "running", to: "failed", error: { code: "tests_failed", message: "red" } },
      });
      expect(changed).toMatchObject({
        type: "run.status_changed",
        data: { from: "running", to: "failed", error: { code: "tests_failed", message: "red" } },
      });
      const [read] = await get().runEvents.list(run.id, {});
      expect(read).toEqual(changed);
      const wrong = { runId: run.id, type: "run.status_changed", data: { from: "running", to: "nowhere" } };
      await expectAppError(
        get().runEvents.append(
          wrong as unknown as Parameters<ReturnType<GetStore>["runEvents"]["append"]>[0],
        ),
        "invalid",
      );
      const noMessage = { runId: run.id, type: "run.log", data: {} };
      await expectAppError(
        get().runEvents.append(
          noMessage as unknown as Parameters<ReturnType<GetStore>["runEvents"]["append"]>[0],
        ),
        "invalid",
      );
      expect(await get().runEvents.list(run.id, {})).toHaveLength(1);
    });

    it("refuses unknown runs and event types", async () => {
      await expectAppError(
        get().runEvents.append({ runId: MISSING_ID, type: "run.log", data: { message: "x" } }),
        "not_found",
      );
      const project = await makeProject(get());
      const run = await get().runs.create({ projectId: project.id, kind: "deploy" });
      const bad = { runId: run.id, type: "made.up", data: {} } as unknown as Parameters<
        ReturnType<GetStore>["runEvents"]["append"]
      >[0];
      await expectAppError(get().runEvents.append(bad), "invalid");
      expect(await get().runEvents.list(MISSING_ID, {})).toEqual([]);
    });

    it("reads every run's events after a seq, oldest first, with a limit", async () => {
      const project = await makeProject(get());
      const [a, b] = await Promise.all([
        get().runs.create({ projectId: project.id, kind: "engineering" }),
        get().runs.create({ projectId: project.id, kind: "deploy" }),
      ]);
      const first = await get().runEvents.append({ runId: a.id, type: "run.log", data: { message: "a1" } });
      const second = await get().runEvents.append({ runId: b.id, type: "run.log", data: { message: "b1" } });
      const third = await get().runEvents.append({ runId: a.id, type: "run.log", data: { message: "a2" } });
      const before = first.seq - 1;
      const after = await get().runEvents.listAfter(before, 100);
      const seqs = after.map((e) => e.seq);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      expect(seqs.every((seq) => seq > before)).toBe(true);
      // Another writer may share the database: ours are the ones on our two runs.
      const ours = after.filter((e) => e.runId === a.id || e.runId === b.id);
      expect(ours.map((e) => e.seq)).toEqual([first.seq, second.seq, third.seq]);
      expect(messages(ours)).toEqual(["a1", "b1", "a2"]);
      const one = await get().runEvents.listAfter(first.seq, 1);
      expect(one).toHaveLength(1);
      expect(one[0]?.seq).toBeGreaterThan(first.seq);
      expect(one[0]?.seq).toBeLessThanOrEqual(second.seq);
      expect((await get().runEvents.listAfter(third.seq, 100)).filter((e) => e.runId === a.id)).toEqual([]);
      await expectAppError(get().runEvents.listAfter(0, 0), "invalid");
      await expectAppError(get().runEvents.listAfter(1.5, 10), "invalid");
    });
  });

  describe("event cursors", () => {
    it("starts at 0, only moves forward, and keeps each subscriber apart", async () => {
      const name = uniq("subscriber");
      const other = uniq("subscriber");
      expect(await get().eventCursors.get(name)).toBe(0);
      await get().eventCursors.advance(name, 7);
      expect(await get().eventCursors.get(name)).toBe(7);
      await get().eventCursors.advance(name, 3);
      expect(await get().eventCursors.get(name)).toBe(7);
      await get().eventCursors.advance(name, 7);
      await get().eventCursors.advance(name, 12);
      expect(await get().eventCursors.get(name)).toBe(12);
      expect(await get().eventCursors.get(other)).toBe(0);
      await Promise.all([5, 40, 20, 31].map((seq) => get().eventCursors.advance(other, seq)));
      expect(await get().eventCursors.get(other)).toBe(40);
    });

    it("refuses an empty name and a negative or fractional seq", async () => {
      await expectAppError(get().eventCursors.get(""), "invalid");
      await expectAppError(get().eventCursors.advance(uniq("subscriber"), -1), "invalid");
      await expectAppError(get().eventCursors.advance(uniq("subscriber"), 2.5), "invalid");
    });
  });
}
