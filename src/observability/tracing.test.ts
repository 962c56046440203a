import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeOtlpCollector, startFakeOtlpCollector } from "../../test/fakes/otlp/index.js";
import { InProcessBus } from "../bus/index.js";
import { ConfigError, loadConfig } from "../config/index.js";
import { SecretRedactor } from "./redaction.js";
import {
  continueTrace,
  currentTraceId,
  currentTraceparent,
  inSpan,
  startTracing,
  type Tracing,
  tracesUrl,
} from "./tracing.js";

const SECRET = "sk-live-tracing-secret-0123456789";

let collector: FakeOtlpCollector;
let bus: InProcessBus;
let tracing: Tracing | null = null;

beforeEach(async () => {
  collector = await startFakeOtlpCollector();
  bus = new InProcessBus();
});
afterEach(async () => {
  await tracing?.stop();
  tracing = null;
  await bus.close();
  await collector.close();
});

async function start(endpoint: string | null, redactor = new SecretRedactor()): Promise<Tracing> {
  tracing = await startTracing({
    endpoint,
    serviceName: "codegen-orchestrator",
    version: "0.0.0-test",
    roles: ["api", "engine"],
    redactor,
  });
  return tracing;
}

const byName = (name: string) => {
  const span = collector.spans().find((s) => s.name === name);
  if (!span) throw new Error(`no span ${name} among ${collector.spans().map((s) => s.name)}`);
  return span;
};

describe("tracing settings", () => {
  it("is off without OTEL_EXPORTER_OTLP_ENDPOINT and names the service codegen-orchestrator", () => {
    expect(loadConfig({}, "embedded").tracing).toEqual({
      endpoint: null,
      serviceName: "codegen-orchestrator",
      traceUrl: null,
    });
    const on = loadConfig(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://jaeger:4318",
        OTEL_SERVICE_NAME: "orchestrator-eu",
        OTEL_TRACE_URL: "http://jaeger:16686/trace/{traceId}",
      },
      "embedded",
    ).tracing;
    expect(on).toEqual({
      endpoint: "http://jaeger:4318",
      serviceName: "orchestrator-eu",
      traceUrl: "http://jaeger:16686/trace/{traceId}",
    });
    expect(tracesUrl("http://jaeger:4318")).toBe("http://jaeger:4318/v1/traces");
    expect(tracesUrl("http://collector/otlp/")).toBe("http://collector/otlp/v1/traces");
  });

  it("refuses an endpoint that is no URL and a trace URL without {traceId}", () => {
    let problems: string[] = [];
    try {
      loadConfig(
        { OTEL_EXPORTER_OTLP_ENDPOINT: "jaeger", OTEL_TRACE_URL: "http://jaeger:16686/trace" },
        "embedded",
      );
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems.map((p) => p.variable);
    }
    expect(problems).toEqual(["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACE_URL"]);
  });
});

describe("tracing", () => {
  it("without an endpoint registers nothing: spans have no trace, messages no traceparent, nothing is sent", async () => {
    expect((await start(null)).isEnabled).toBe(false);
    const seen = await inSpan("chat.message", { "chat.message.id": "m1" }, async () => {
      const envelope = await bus.publish("t", { type: "x.y", payload: {} });
      return { traceId: currentTraceId(), traceparent: currentTraceparent(), envelope };
    });
    expect(seen.traceId).toBeNull();
    expect(seen.traceparent).toBeNull();
    expect(seen.envelope.traceparent).toBeNull();
    await tracing?.stop();
    expect(collector.requests()).toEqual([]);
  });

  it("exports spans over OTLP/HTTP JSON with the service and its roles, parents carried across the bus", async () => {
    await start(collector.url);
    // A consumer continues the publisher's trace; so does the answerer of a request.
    let consumedTraceId: string | null = null;
    const consumed = new Promise<void>((resolve) => {
      bus.consume("runs", { group: "engine", consumer: "c1" }, async () => {
        await inSpan("run.engineering", { "run.id": "r1" }, async () => {
          consumedTraceId = currentTraceId();
        });
        resolve();
      });
    });
    bus.consume("workers.rpc", { group: "workers", consumer: "w1" }, async ({ envelope }) => {
      await inSpan("worker.turn", { "worker.id": "w1" }, async () => {});
      await bus.reply(envelope, { type: "workers.reply", payload: { ok: true } });
    });
    const sent = await inSpan("po.tool", { "po.tool.name": "engineering.start" }, async () => {
      const envelope = await bus.publish("runs", { type: "engineering.run", payload: { runId: "r1" } });
      return { envelope, traceId: currentTraceId() };
    });
    await consumed;
    await inSpan("stage.developer", { "run.stage": "developer" }, () =>
      bus.request("workers.rpc", { type: "workers.call", payload: {} }, 5_000),
    );
    expect(sent.envelope.traceparent).toMatch(new RegExp(`^00-${sent.traceId}-[0-9a-f]{16}-01$`));
    expect(consumedTraceId).toBe(sent.traceId);
    await tracing?.stop();

    expect(collector.requests().every((r) => r.path === "/v1/traces" && r.method === "POST")).toBe(true);
    expect(collector.requests()[0]?.contentType).toMatch(/^application\/json/);
    const tool = byName("po.tool");
    const run = byName("run.engineering");
    const stage = byName("stage.developer");
    const turn = byName("worker.turn");
    expect(tool.parentSpanId).toBe("");
    expect(run).toMatchObject({ traceId: tool.traceId, parentSpanId: tool.spanId });
    expect(turn).toMatchObject({ traceId: stage.traceId, parentSpanId: stage.spanId });
    expect(stage.traceId).not.toBe(tool.traceId);
    expect(run.attributes).toEqual({ "run.id": "r1" });
    expect(run.resource).toMatchObject({
      "service.name": "codegen-orchestrator",
      "service.version": "0.0.0-test",
      "orchestrator.roles": ["api", "engine"],
    });
  });

  it("starts a new trace for a root span and for a message published outside any", async () => {
    await start(collector.url);
    const inner = await inSpan("outer", {}, () =>
      inSpan("chat.message", {}, async () => currentTraceId(), { root: true }),
    );
    const outside = continueTrace(null, () => currentTraceparent());
    expect(outside).toBeNull();
    await tracing?.stop();
    expect(byName("chat.message")).toMatchObject({ traceId: inner, parentSpanId: "" });
    expect(byName("outer").traceId).not.toBe(inner);
  });

  it("masks every known secret in what it exports, and marks a failed span with the error's code", async () => {
    const redactor = new SecretRedactor();
    redactor.add(SECRET, "TEST_KEY");
    await start(collector.url, redactor);
    const failing = inSpan("deploy.health_gate", { "some.id": `id-${SECRET}` }, async () => {
      throw Object.assign(new Error(`refused ${SECRET}`), { code: "health_gate_failed" });
    });
    await expect(failing).rejects.toThrow("refused");
    await tracing?.stop();
    const bodies = collector.bodies().join("\n");
    expect(bodies.length).toBeGreaterThan(0);
    expect(bodies).not.toContain(SECRET);
    const gate = byName("deploy.health_gate");
    expect(gate.attributes).toEqual({ "some.id": "id-[REDACTED]", "error.type": "health_gate_failed" });
    expect(gate.statusCode).toBe(2);
  });

  it("refuses a second provider in one process", async () => {
    await start(collector.url);
    await expect(
      startTracing({
        endpoint: collector.url,
        serviceName: "x",
        version: "0",
        roles: [],
        redactor: new SecretRedactor(),
      }),
    ).rejects.toThrow("already registered");
  });
});
