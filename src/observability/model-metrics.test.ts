import { describe, expect, it } from "vitest";
import { promtoolCheckMetrics, sampleValue } from "../../test/support/metrics-text.js";
import { createMetrics } from "./metrics.js";
import { outcomeOfStatus, timedModelFetch } from "./model-metrics.js";

const upstreams = {
  anthropic: { baseUrl: "http://127.0.0.1:9001" },
  openai: { baseUrl: "http://127.0.0.1:9002/v1" },
};

describe("model provider metrics", () => {
  it("time every call by provider and outcome, and count the failed ones by reason", async () => {
    const metrics = createMetrics();
    // A clock that moves 1.5 s per call, so the durations are known.
    let clock = 0;
    const now = () => {
      clock += 750;
      return clock;
    };
    const answers: (() => Response)[] = [
      () => new Response("{}", { status: 200 }),
      () => new Response("{}", { status: 200 }),
      () => new Response("{}", { status: 429 }),
      () => new Response("{}", { status: 529 }),
      () => new Response("{}", { status: 400 }),
      () => {
        throw new DOMException("deadline", "TimeoutError");
      },
      () => {
        throw new TypeError("fetch failed");
      },
      () => {
        throw new DOMException("the agent went away", "AbortError");
      },
    ];
    const inner = (async () => (answers.shift() as () => Response)()) as typeof fetch;
    const timed = timedModelFetch(inner, { metrics, upstreams }, now);

    await timed("http://127.0.0.1:9001/v1/messages", { method: "POST" });
    await timed(new URL("http://127.0.0.1:9002/v1/chat/completions"), { method: "POST" });
    expect((await timed("http://127.0.0.1:9001/v1/messages")).status).toBe(429);
    expect((await timed("http://127.0.0.1:9001/v1/messages")).status).toBe(529);
    expect((await timed(new Request("http://127.0.0.1:9002/v1/responses"))).status).toBe(400);
    await expect(timed("http://127.0.0.1:9001/v1/messages")).rejects.toMatchObject({ name: "TimeoutError" });
    await expect(timed("http://127.0.0.1:9002/v1/chat/completions")).rejects.toThrow("fetch failed");
    await expect(timed("http://127.0.0.1:9001/v1/messages")).rejects.toMatchObject({ name: "AbortError" });

    const text = await metrics.render();
    const count = (provider: string, outcome: string) =>
      sampleValue(text, "orchestrator_model_request_duration_seconds_count", { provider, outcome });
    expect(count("anthropic", "ok")).toBe(1);
    expect(count("openai", "ok")).toBe(1);
    expect(count("anthropic", "rate_limited")).toBe(1);
    expect(count("anthropic", "server_error")).toBe(1);
    expect(count("openai", "client_error")).toBe(1);
    expect(count("anthropic", "timeout")).toBe(1);
    expect(count("openai", "unreachable")).toBe(1);
    expect(
      sampleValue(text, "orchestrator_model_request_duration_seconds_sum", {
        provider: "anthropic",
        outcome: "ok",
      }),
    ).toBe(0.75);
    const errors = (provider: string, reason: string) =>
      sampleValue(text, "orchestrator_model_request_errors_total", { provider, reason });
    expect(errors("anthropic", "rate_limited")).toBe(1);
    expect(errors("anthropic", "server_error")).toBe(1);
    expect(errors("openai", "client_error")).toBe(1);
    expect(errors("anthropic", "timeout")).toBe(1);
    expect(errors("openai", "unreachable")).toBe(1);
    expect(errors("anthropic", "ok")).toBe(undefined);
    // The call its caller gave up on is neither timed nor an error.
    expect(count("anthropic", "aborted")).toBe(undefined);
    expect(promtoolCheckMetrics(text)).toBe("");
  });

  it("classifies answers by status", () => {
    expect([200, 302, 400, 404, 429, 500, 529].map(outcomeOfStatus)).toEqual([
      "ok",
      "ok",
      "client_error",
      "client_error",
      "rate_limited",
      "server_error",
      "server_error",
    ]);
  });
});
