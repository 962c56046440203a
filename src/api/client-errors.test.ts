/**
 * Requests Node's HTTP parser refuses before Fastify sees them are answered in our error shape.
 * A URL over the header size limit once got Fastify's own body (`{"error":"Request Header Fields
 * Too Large",...}`), which no client of ours could read as an error.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { ErrorBody } from "../contracts/index.js";

let h: ApiHarness & { url: string | null };

beforeAll(async () => {
  h = await startApiHarness({ listen: true });
});
afterAll(async () => h?.close());

describe("requests the HTTP parser refuses", () => {
  it("answer a URL over the size limit with 431 in our error shape", async () => {
    const res = await fetch(`${h.url}/api/runs/${"x".repeat(20_000)}`);
    expect(res.status).toBe(431);
    const body = (await res.json()) as { error?: unknown };
    expect(ErrorBody.parse(body.error)).toMatchObject({ code: "headers_too_large" });
  });
});
