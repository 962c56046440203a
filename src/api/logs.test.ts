/**
 * The Logs page's routes: the latest entries every process published, filtered; and the same as a
 * live event stream that resumes after the last entry it sent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { openEventStream } from "../../test/support/sse-client.js";
import { issueToken } from "../auth/index.js";
import { LoggedEntry, LogList } from "../contracts/index.js";

const PROJECT = "0b6f4b36-5f59-4b6a-9d53-0a4c1f1e2a01";
const RUN = "5d7c1d2e-8a40-4d4e-9a1a-6b0b5a4f3c02";

let h: ApiHarness & { url: string | null };

beforeAll(async () => {
  h = await startApiHarness({ listen: true });
});
afterAll(async () => h.close());

const list = async (query = "") => {
  const res = await h.api.inject({
    method: "GET",
    url: `/api/admin/logs${query}`,
    headers: { authorization: `Bearer ${h.adminToken}` },
  });
  expect(res.statusCode, res.body).toBe(200);
  return LogList.parse(res.json());
};

describe("GET /api/admin/logs", () => {
  it("lists what the process logged through the bus, filtered by component, level, project and run", async () => {
    const log = h.api.log.child({ component: "engine", projectId: PROJECT });
    log.info("run queued");
    log.child({ runId: RUN }).warn({ attempt: 2 }, "tester red, back to the developer");
    h.api.log.child({ component: "scheduler" }).error("health check failed");
    await expect.poll(async () => (await list("?component=scheduler")).entries.length).toBe(1);

    const engine = await list("?component=engine");
    expect(engine.entries.map((e) => e.msg)).toEqual(["run queued", "tester red, back to the developer"]);
    expect(engine.components).toEqual(expect.arrayContaining(["engine", "scheduler"]));
    expect(engine.entries[1]).toMatchObject({
      level: "warn",
      projectId: PROJECT,
      runId: RUN,
      node: "api-harness",
    });
    expect((await list("?level=warn")).entries.map((e) => e.msg)).toEqual([
      "tester red, back to the developer",
      "health check failed",
    ]);
    expect((await list(`?projectId=${PROJECT}&runId=${RUN}`)).entries.map((e) => e.msg)).toEqual([
      "tester red, back to the developer",
    ]);
    const latest = await list("?limit=1");
    expect(latest.entries).toHaveLength(1);
    expect(latest.capacity).toBeGreaterThan(1000);
  });

  it("refuses a filter out of its contract, naming it", async () => {
    for (const [query, path] of [
      ["level=loud", "querystring.level"],
      ["projectId=weather", "querystring.projectId"],
      ["limit=0", "querystring.limit"],
    ]) {
      const res = await h.api.inject({
        method: "GET",
        url: `/api/admin/logs?${query}`,
        headers: { authorization: `Bearer ${h.adminToken}` },
      });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
  });

  it("is for admins only", async () => {
    const person = await h.store.users.create({ webLogin: "eve", name: "Eve" });
    const { token } = await issueToken(h.store, { name: "eve", kind: "user", userId: person.id });
    for (const url of ["/api/admin/logs", "/api/admin/logs/stream"]) {
      const res = await h.api.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode, url).toBe(403);
    }
  });
});

describe("GET /api/admin/logs/stream", () => {
  it("sends new entries that match its filters as they arrive, and resumes after Last-Event-ID", async () => {
    const headers = { authorization: `Bearer ${h.adminToken}` };
    const stream = openEventStream(`${h.url}/api/admin/logs/stream?component=deploy&level=warn`, headers);
    const log = h.api.log.child({ component: "deploy" });
    // Once one marker arrives the stream is listening (entries from before it are the list's).
    await expect
      .poll(() => {
        log.warn("marker");
        return stream.events.length;
      })
      .toBeGreaterThan(0);
    const events = () => stream.events.filter((e) => !(e.data ?? "").includes('"marker"'));
    log.info("release built");
    log.error("health gate failed");
    h.api.log.child({ component: "engine" }).error("an engine error");
    await stream.waitFor((e) => (e.data ?? "").includes("health gate failed"));
    const first = LoggedEntry.parse(JSON.parse(events()[0]?.data ?? "{}"));
    expect(first).toMatchObject({ component: "deploy", level: "error", msg: "health gate failed" });
    expect(events()[0]?.event).toBe("log");
    expect(events()[0]?.id).toBe(String(first.seq));

    log.warn("rolled back");
    await stream.waitFor((e) => (e.data ?? "").includes("rolled back"));
    stream.close();
    expect(events().map((e) => JSON.parse(e.data ?? "{}").msg)).toEqual([
      "health gate failed",
      "rolled back",
    ]);

    // A client that comes back after the first entry gets what it missed, then live ones.
    const resumed = openEventStream(`${h.url}/api/admin/logs/stream?component=deploy&level=warn`, {
      ...headers,
      "last-event-id": String(first.seq),
    });
    await resumed.waitFor((e) => (e.data ?? "").includes("rolled back"));
    resumed.close();
    expect(resumed.events.map((e) => JSON.parse(e.data ?? "{}").msg)).toEqual(["rolled back"]);
  });
});
