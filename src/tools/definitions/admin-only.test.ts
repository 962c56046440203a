import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openToolBed, type ToolBed } from "../../../test/support/tool-bed.js";
import { AppError, type Principal, ToolGroup } from "../../contracts/index.js";

let bed: ToolBed;
let worker: Principal;
let runOfAnother = "";

beforeAll(async () => {
  bed = await openToolBed();
  const own = await bed.store.projects.create({ name: "Worker's own" });
  const another = await bed.store.projects.create({ name: "Another" });
  runOfAnother = (await bed.store.runs.create({ projectId: another.id, kind: "engineering" })).id;
  // The broadest worker token there is: the PO's role with every tool group.
  worker = {
    kind: "worker",
    tokenId: "tok-worker",
    projectId: own.id,
    role: "po",
    workerId: null,
    groups: [...ToolGroup.options],
  };
});
afterAll(async () => bed.close());

describe("admin-only tools", () => {
  it("refuse a worker token issued with every group: runs of other projects and servers stay an admin's", async () => {
    const calls: [string, unknown][] = [
      ["run.cancel", { runId: runOfAnother }],
      ["run.grant_budget", { runId: runOfAnother, addUsd: 5 }],
      ["server.list", {}],
      ["server.check", { id: "00000000-0000-4000-8000-000000000000" }],
    ];
    for (const [name, input] of calls) {
      const error = await bed.call(worker, name, input).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(AppError);
      expect((error as AppError).kind, name).toBe("forbidden");
    }
    expect((await bed.store.runs.get(runOfAnother)).status).toBe("queued");
  });
});
