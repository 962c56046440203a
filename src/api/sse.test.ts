import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { issueToken } from "../auth/index.js";

let h: ApiHarness & { url: string | null };
beforeAll(async () => {
  h = await startApiHarness({ listen: true });
});
afterAll(async () => h.close());

/** Reads an SSE response until it ends, returning the parsed events. */
function readStream(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; events: { id?: string; event?: string; data?: string }[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => {
        const events = body
          .split("\n\n")
          .filter((block) => block && !block.startsWith(":"))
          .map((block) =>
            Object.fromEntries(
              block
                .split("\n")
                .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
            ),
          );
        resolve({ status: res.statusCode ?? 0, events });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("run event stream", () => {
  it("replays, streams live events, and ends when the run is terminal", async () => {
    const project = await h.store.projects.create({ name: "sse" });
    const run = await h.store.runs.create({ projectId: project.id, kind: "engineering" });
    await h.store.runEvents.append({ runId: run.id, type: "run.created", data: {} });
    const streaming = readStream(`${h.url}/api/runs/${run.id}/events/stream`, {
      authorization: `Bearer ${h.adminToken}`,
    });
    await new Promise((r) => setTimeout(r, 100));
    await h.store.runs.transition(run.id, "running", { stage: "architect" });
    await h.store.runEvents.append({
      runId: run.id,
      type: "run.stage_changed",
      data: { stage: "architect" },
    });
    await h.store.runs.transition(run.id, "failed", {
      result: { reason: "test" },
      error: { code: "x", message: "boom" },
    });
    const { status, events } = await streaming;
    expect(status).toBe(200);
    expect(events.map((e) => e.event)).toEqual(["run.created", "run.stage_changed", "end"]);
    expect(JSON.parse(events[1]?.data ?? "{}")).toMatchObject({
      type: "run.stage_changed",
      data: { stage: "architect" },
    });
    expect(JSON.parse(events[2]?.data ?? "{}")).toEqual({ status: "failed" });

    // Resuming after the first event's id sends only what came later.
    const resumed = await readStream(`${h.url}/api/runs/${run.id}/events/stream`, {
      authorization: `Bearer ${h.adminToken}`,
      "last-event-id": events[0]?.id ?? "",
    });
    expect(resumed.events.map((e) => e.event)).toEqual(["run.stage_changed", "end"]);
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
    const refused = await readStream(`${h.url}/api/runs/${otherRun.id}/events/stream`, {
      authorization: `Bearer ${token}`,
    });
    expect(refused.status).toBe(404);
    const noToken = await readStream(`${h.url}/api/runs/${otherRun.id}/events/stream`, {});
    expect(noToken.status).toBe(401);
  });
});
