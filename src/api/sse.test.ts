import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { openEventStream as openStream } from "../../test/support/sse-client.js";
import { until } from "../../test/support/until.js";
import { issueToken } from "../auth/index.js";
import { RUN_EVENTS_STREAM, RunJournal } from "../events/index.js";
import { createLogger } from "../observability/index.js";

let h: ApiHarness & { url: string | null };
let journal: RunJournal;
beforeAll(async () => {
  h = await startApiHarness({ listen: true, sseRepairIntervalMs: 200 });
  journal = new RunJournal({
    store: h.store,
    bus: h.bus,
    logger: createLogger({ level: "silent", redactor: h.redactor }),
  });
});
afterAll(async () => h.close());

const auth = () => ({ authorization: `Bearer ${h.adminToken}` });

async function newRun(name: string) {
  const project = await h.store.projects.create({ name });
  const run = await h.store.runs.create({ projectId: project.id, kind: "engineering" });
  await journal.append({ runId: run.id, type: "run.created", data: { kind: "engineering" } });
  return run;
}

describe("run event stream", () => {
  it("replays, pushes live events from the bus, and ends when the run is terminal", async () => {
    const run = await newRun("sse");
    const stream = openStream(`${h.url}/api/runs/${run.id}/events/stream`, auth());
    await stream.waitFor((e) => e.event === "run.created");

    // Another run's events are not sent on this stream.
    const other = await newRun("sse other run");
    await journal.log(other.id, "not for this stream");
    await journal.move(run.id, "running");
    await stream.waitFor((e) => e.event === "run.status_changed");

    // Live events come from the bus: a terminal one published there only (never stored) ends it.
    const [created] = await h.store.runEvents.list(run.id, { limit: 1 });
    const busOnly = {
      ...created,
      seq: Number.MAX_SAFE_INTEGER,
      type: "run.status_changed",
      data: { from: "running", to: "failed" },
    };
    await h.bus.publish(RUN_EVENTS_STREAM, { type: busOnly.type, payload: busOnly });
    const { status, events } = await stream.done;
    expect(status).toBe(200);
    expect(events.map((e) => e.event)).toEqual([
      "run.created",
      "run.status_changed",
      "run.status_changed",
      "end",
    ]);
    expect(JSON.parse(events[1]?.data ?? "{}")).toMatchObject({ data: { from: "queued", to: "running" } });
    expect(events[2]?.id).toBe(String(Number.MAX_SAFE_INTEGER));
    expect(JSON.parse(events[3]?.data ?? "{}")).toEqual({ status: "failed" });

    // A run finished at connect time: the replay after the first event's id, then `end` at once.
    await journal.move(run.id, "failed", {
      result: { reason: "test" },
      error: { code: "x", message: "boom" },
    });
    const resumed = await openStream(`${h.url}/api/runs/${run.id}/events/stream`, {
      ...auth(),
      "last-event-id": events[0]?.id ?? "",
    }).done;
    expect(resumed.events.map((e) => e.event)).toEqual(["run.status_changed", "run.status_changed", "end"]);
    expect(JSON.parse(resumed.events[1]?.data ?? "{}")).toMatchObject({ data: { to: "failed" } });
    expect(JSON.parse(resumed.events[2]?.data ?? "{}")).toEqual({ status: "failed" });
  });

  it("still delivers an event, and still ends, when the bus never carried them", async () => {
    const run = await newRun("sse lost publish");
    const stream = openStream(`${h.url}/api/runs/${run.id}/events/stream`, auth());
    await stream.waitFor((e) => e.event === "run.created");
    // Written to the store only, as when a process dies between the write and the publish.
    await h.store.runEvents.append({ runId: run.id, type: "run.log", data: { message: "never published" } });
    await stream.waitFor((e) => e.event === "run.log");
    await h.store.runs.transition(run.id, "running");
    await h.store.runs.transition(run.id, "failed", {
      result: { reason: "test" },
      error: { code: "x", message: "boom" },
    });
    const { events } = await stream.done;
    expect(events.map((e) => e.event)).toEqual(["run.created", "run.log", "end"]);
    expect(JSON.parse(events[2]?.data ?? "{}")).toEqual({ status: "failed" });
  });

  it("still sends an earlier event whose publish came after a later one's", async () => {
    const run = await newRun("sse out of order");
    const stream = openStream(`${h.url}/api/runs/${run.id}/events/stream`, auth());
    await stream.waitFor((e) => e.event === "run.created");
    // Two writers of one run: the first one's event is stored, its publish is still on the way
    // when the second one's event (a higher seq) is stored and published.
    const early = await h.store.runEvents.append({
      runId: run.id,
      type: "run.log",
      data: { message: "written first, published late" },
    });
    await journal.log(run.id, "written second, published at once");
    await stream.waitFor((e) => JSON.parse(e.data ?? "{}").data?.message === "written first, published late");
    // Published at last: already sent by the repair, so not sent twice.
    await h.bus.publish(RUN_EVENTS_STREAM, { type: early.type, payload: early });
    await journal.move(run.id, "cancelled", { result: { reason: "test" } });
    const { events } = await stream.done;
    const messages = events.map((e) => JSON.parse(e.data ?? "{}").data?.message).filter(Boolean);
    expect(messages).toEqual(["written second, published at once", "written first, published late"]);
    const all = await h.store.runEvents.list(run.id, {});
    const sentSeqs = events.filter((e) => e.event !== "end").map((e) => Number(e.id));
    expect([...sentSeqs].sort((a, b) => a - b)).toEqual(all.map((e) => e.seq));
  });

  it("sends each event once, in seq order, when events are written during the replay", async () => {
    const run = await newRun("sse overlap");
    for (let n = 0; n < 30; n++) await journal.log(run.id, `before ${n}`);
    const stream = openStream(`${h.url}/api/runs/${run.id}/events/stream`, auth());
    // Written while the stream starts its tail and replays: each can be in both the replay and the tail.
    for (let n = 0; n < 30; n++) await journal.log(run.id, `during ${n}`);
    await stream.waitFor((e) => JSON.parse(e.data ?? "{}").data?.message === "during 29");
    // An event already sent, published again (at-least-once publishers), is not sent twice.
    const [first] = await h.store.runEvents.list(run.id, { limit: 1 });
    await h.bus.publish(RUN_EVENTS_STREAM, { type: "run.created", payload: first });
    await journal.move(run.id, "cancelled", { result: { reason: "test" } });
    const { events } = await stream.done;

    const all = await h.store.runEvents.list(run.id, {});
    const sentSeqs = events.filter((e) => e.event !== "end").map((e) => Number(e.id));
    expect(sentSeqs).toEqual(all.map((e) => e.seq));
    expect(events.at(-1)).toMatchObject({ event: "end", data: JSON.stringify({ status: "cancelled" }) });
  });

  it("stops its tail when the client leaves", async () => {
    const run = await newRun("sse leave");
    // Watch the tails the API starts on the bus (the same object the API was built with).
    const original = h.bus.tail.bind(h.bus);
    const tails: { stopped: boolean }[] = [];
    h.bus.tail = (stream, handler) => {
      const sub = original(stream, handler);
      const seen = { stopped: false };
      tails.push(seen);
      return {
        ready: sub.ready,
        stop: async (deadlineMs) => {
          seen.stopped = true;
          await sub.stop(deadlineMs);
        },
      };
    };
    const url = new URL(`${h.url}/api/runs/${run.id}/events/stream`);
    const closed = new Promise<void>((resolve, reject) => {
      const req = request(url, { headers: auth() }, (res) => {
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", (error) => (req.destroyed ? resolve() : reject(error)));
      req.end();
    });
    await closed;
    h.bus.tail = original;
    expect(tails).toHaveLength(1);
    await until("the tail is stopped", 5_000, async () => (tails[0]?.stopped ? true : null), 10);
    // The server keeps working for other clients after one left mid-stream.
    await journal.log(run.id, "after the client left");
    await journal.move(run.id, "cancelled", { result: { reason: "test" } });
    const again = await openStream(`${h.url}/api/runs/${run.id}/events/stream`, auth()).done;
    expect(again.events.map((e) => e.event)).toEqual(["run.created", "run.log", "run.status_changed", "end"]);
  });

  it("lets a worker follow its own project's runs only", async () => {
    const mine = await h.store.projects.create({ name: "sse mine" });
    const other = await h.store.projects.create({ name: "sse other" });
    const otherRun = await h.store.runs.create({ projectId: other.id, kind: "deploy" });
    const { token } = await issueToken(h.store, {
      name: "w",
      kind: "worker",
      projectId: mine.id,
      role: "developer",
      groups: ["runs"],
    });
    const refused = await openStream(`${h.url}/api/runs/${otherRun.id}/events/stream`, {
      authorization: `Bearer ${token}`,
    }).done;
    expect(refused.status).toBe(404);
    const noToken = await openStream(`${h.url}/api/runs/${otherRun.id}/events/stream`, {}).done;
    expect(noToken.status).toBe(401);
  });
});
