/**
 * What the admin pages are told of tracing: whether spans are exported and the trace viewer's
 * address (`OTEL_TRACE_URL`), so a run's trace id can be a link. Admins only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { issueToken } from "../auth/index.js";

const TRACE_URL = "http://jaeger.example:16686/trace/{traceId}";
let on: ApiHarness;
let off: ApiHarness;

beforeAll(async () => {
  on = await startApiHarness({ tracing: { isEnabled: true, traceUrl: TRACE_URL } });
  off = await startApiHarness();
});
afterAll(async () => {
  await on?.close();
  await off?.close();
});

const view = (h: ApiHarness, token: string | null) =>
  h.api.inject({
    method: "GET",
    url: "/api/admin/tracing",
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

describe("GET /api/admin/tracing", () => {
  it("names the trace viewer's address when one is configured", async () => {
    const res = await view(on, on.adminToken);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ isEnabled: true, traceUrl: TRACE_URL });
  });

  it("says tracing is off and links nowhere without the settings", async () => {
    const res = await view(off, off.adminToken);
    expect(res.json()).toEqual({ isEnabled: false, traceUrl: null });
  });

  it("answers admins only", async () => {
    expect((await view(on, null)).statusCode).toBe(401);
    const user = await on.store.users.create({ name: "person", webLogin: "person" });
    const { token } = await issueToken(on.store, { name: "person", kind: "user", userId: user.id });
    expect((await view(on, token)).statusCode).toBe(403);
  });
});
