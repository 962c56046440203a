import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { InProcessBus } from "../bus/index.js";
import type { RunEventCreate } from "../contracts/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import { RunJournal } from "./index.js";

const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
let store: Store;
let bus: InProcessBus;
let journal: RunJournal;
let projectId: string;

beforeAll(async () => {
  store = await openTestStore();
  bus = new InProcessBus();
  journal = new RunJournal({ store, bus, logger });
  projectId = (await store.projects.create({ name: "Journalled" })).id;
});
afterAll(async () => {
  await bus.close();
  await store.close();
});

const outcome = (runId: string, projectId: string): RunEventCreate => ({
  runId,
  type: "deploy.succeeded",
  data: {
    projectId,
    commit: "a".repeat(40),
    url: "http://127.0.0.1:1",
    botUsername: null,
    missing: [],
    reason: null,
    restoredPrevious: false,
  },
});

// A run's end and its events are one write: a process killed right after the move must not leave
// a run ended without the event its subscribers (deploy after green, the chat) wait for.
describe("RunJournal.move", () => {
  it("stores the status event and the events given with it, in order, with the move", async () => {
    const run = await store.runs.create({ projectId, kind: "deploy" });
    await journal.move(run.id, "running");
    const ended = await journal.move(run.id, "succeeded", { result: { ok: true } }, [
      outcome(run.id, projectId),
    ]);
    expect(ended.status).toBe("succeeded");
    const events = await store.runEvents.list(run.id, {});
    expect(events.map((e) => [e.type, e.type === "run.status_changed" ? e.data.to : null])).toEqual([
      ["run.status_changed", "running"],
      ["run.status_changed", "succeeded"],
      ["deploy.succeeded", null],
    ]);
  });

  it("moves nothing when an event cannot be stored", async () => {
    const run = await store.runs.create({ projectId, kind: "deploy" });
    await journal.move(run.id, "running");
    const broken = { ...outcome(run.id, projectId), data: { projectId } } as unknown as RunEventCreate;
    await expect(journal.move(run.id, "succeeded", { result: { ok: true } }, [broken])).rejects.toThrow();
    expect((await store.runs.get(run.id)).status).toBe("running");
    expect((await store.runEvents.list(run.id, {})).map((e) => e.type)).toEqual(["run.status_changed"]);
  });

  it("stores no event when the move is refused", async () => {
    const run = await store.runs.create({ projectId, kind: "deploy" });
    await expect(journal.move(run.id, "succeeded", { result: { ok: true } })).rejects.toThrow();
    expect(await store.runEvents.list(run.id, {})).toEqual([]);
  });
});
