/**
 * The admin pages' change stream: which topics changed, found in the store whoever changed it,
 * and run events pushed from the bus; admins only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { openEventStream, type SseEvent } from "../../test/support/sse-client.js";
import { issueToken } from "../auth/index.js";
import { RUN_EVENTS_STREAM } from "../events/index.js";

let h: ApiHarness & { url: string | null };
beforeAll(async () => {
  // A poll far slower than the test: a run change seen at once came from the bus.
  h = await startApiHarness({ listen: true, adminChangePollMs: 60_000 });
});
afterAll(async () => h.close());

const admin = () => ({ authorization: `Bearer ${h.adminToken}` });
const topicsOf = (events: SseEvent[]) =>
  events.filter((e) => e.event === "change").map((e) => JSON.parse(e.data ?? "{}").topics as string[]);

describe("GET /api/admin/events", () => {
  it("says ready, then pushes a run event from the bus as a change to runs", async () => {
    const stream = openEventStream(`${h.url}/api/admin/events`, admin());
    await stream.waitFor((e) => e.event === "ready");
    await h.bus.publish(RUN_EVENTS_STREAM, { type: "run.log", payload: { runId: "x" } });
    await stream.waitFor((e) => e.event === "change");
    expect(topicsOf(stream.events)).toEqual([["runs"]]);
    stream.close();
  });

  it("names the topics whose records changed in the store, and no others", async () => {
    const fast = await startApiHarness({ listen: true, adminChangePollMs: 100 });
    try {
      const stream = openEventStream(`${fast.url}/api/admin/events`, {
        authorization: `Bearer ${fast.adminToken}`,
      });
      // After `ready` the first read of the marks is done: what follows is a change.
      await stream.waitFor((e) => e.event === "ready");
      await fast.store.users.create({ webLogin: "changed-user", name: "Changed" });
      await stream.waitFor((e) => e.event === "change");
      await fast.store.projects.create({ name: "changed project" });
      await stream.waitFor((e) => topicsOf([e]).some((topics) => topics.includes("projects")));
      const seen = topicsOf(stream.events);
      expect(seen[0]).toEqual(["users"]);
      expect(seen.at(-1)).toEqual(["projects"]);
      stream.close();
    } finally {
      await fast.close();
    }
  });

  it("refuses a request without a session and a user who is not an admin", async () => {
    const anonymous = await openEventStream(`${h.url}/api/admin/events`, {}).done;
    expect(anonymous.status).toBe(401);
    const user = await h.store.users.create({ webLogin: "not-admin", name: "User" });
    const { token } = await issueToken(h.store, { name: "user", kind: "user", userId: user.id });
    const refused = await openEventStream(`${h.url}/api/admin/events`, {
      authorization: `Bearer ${token}`,
    }).done;
    expect(refused.status).toBe(403);
  });
});
