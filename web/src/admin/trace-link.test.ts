import { describe, expect, it } from "vitest";
import { traceHref } from "./trace-link";

describe("traceHref", () => {
  it("puts the trace id where OTEL_TRACE_URL says", () => {
    expect(traceHref("http://jaeger:16686/trace/{traceId}", "4bf92f3577b34da6a3ce929d0e0e4736")).toBe(
      "http://jaeger:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736",
    );
    expect(traceHref("https://grafana/explore?trace={traceId}&x={traceId}", "ab")).toBe(
      "https://grafana/explore?trace=ab&x=ab",
    );
  });

  it("links nowhere without a trace viewer", () => {
    expect(traceHref(null, "4bf92f3577b34da6a3ce929d0e0e4736")).toBeNull();
  });
});
