import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeAnthropic, startFakeAnthropic } from "../../../test/fakes/anthropic/index.js";
import { type FakeOpenAi, startFakeOpenAi } from "../../../test/fakes/openai/index.js";
import { createMetrics, timedModelFetch } from "../../observability/index.js";
import { AnthropicProvider } from "./anthropic.js";
import { OpenAiProvider } from "./openai.js";
import { modelProviderConformance } from "./provider.conformance.js";
import { type ScriptedAnswer, ScriptedProvider } from "./scripted.js";
import { selectModelProvider } from "./select.js";

const KEY = "sk-test-provider-key";
let anthropic: FakeAnthropic;
let openai: FakeOpenAi;
/** A server that accepts requests and never answers (a model that hangs). */
let silent: Server;
let silentUrl = "";

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: KEY, isSideRequest: () => false });
  openai = await startFakeOpenAi({ apiKey: KEY });
  silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await anthropic?.close();
  await openai?.close();
  silent?.closeAllConnections();
  await new Promise<void>((resolve) => silent?.close(() => resolve()));
});

const ERROR_TYPES: Record<number, string> = {
  401: "authentication_error",
  500: "api_error",
  529: "overloaded_error",
};

modelProviderConformance(
  "anthropic",
  () => {
    anthropic.reset();
    return {
      provider: new AnthropicProvider({ apiKey: KEY, baseUrl: anthropic.url, maxRetries: 2 }),
      answer: (reply) =>
        anthropic.enqueue({
          blocks: [
            ...(reply.text ? [{ text: reply.text }] : []),
            ...(reply.toolCalls ?? []).map((call) => ({ toolUse: call })),
          ],
          ...(reply.usage ? { usage: { input: reply.usage.input, output: reply.usage.output } } : {}),
        }),
      fail: (status) =>
        anthropic.enqueue({
          error: { status, type: ERROR_TYPES[status] ?? "api_error", message: `failed ${status}` },
        }),
      calls: () => anthropic.requests.filter((r) => r.path === "/v1/messages").length,
      lastBody: () => JSON.stringify(anthropic.requests.at(-1)?.body ?? null),
      exactUsage: true,
    };
  },
  { network: true },
);

modelProviderConformance(
  "openai",
  () => ({
    provider: new OpenAiProvider({ apiKey: KEY, baseUrl: openai.url, maxRetries: 2 }),
    answer: (reply) => {
      openai.enqueueReply({
        ...(reply.text ? { text: reply.text } : {}),
        ...(reply.toolCalls ? { toolCalls: reply.toolCalls } : {}),
      });
      if (reply.usage) openai.enqueueUsage({ prompt: reply.usage.input, completion: reply.usage.output });
    },
    fail: (status) =>
      openai.enqueueReply({
        error: {
          status,
          type: ERROR_TYPES[status] ?? "api_error",
          message: `failed ${status}`,
          retryAfterSeconds: 0,
        },
      }),
    calls: () => openai.requests.filter((r) => r.path === "/v1/chat/completions").length,
    lastBody: () => openai.requests.at(-1)?.raw ?? "",
    exactUsage: true,
  }),
  { network: true },
);

modelProviderConformance(
  "scripted",
  () => {
    const queue: ScriptedAnswer[] = [];
    return {
      provider: new ScriptedProvider(() => queue.shift() ?? { text: "" }),
      answer: (reply) => queue.push(reply),
      exactUsage: false,
    };
  },
  { network: false },
);

describe("model providers", () => {
  it("give up at the turn deadline on a model that never answers, as model_timeout", async () => {
    for (const provider of [
      new AnthropicProvider({ apiKey: KEY, baseUrl: silentUrl, deadlineMs: 300, maxRetries: 0 }),
      new OpenAiProvider({ apiKey: KEY, baseUrl: silentUrl, deadlineMs: 300, maxRetries: 0 }),
    ]) {
      const error = await provider
        .complete({ system: "s", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] })
        .catch((e: unknown) => e);
      expect(error, provider.kind).toMatchObject({ code: "model_timeout" });
    }
  });

  it("never put a key in the error they raise for it", async () => {
    const wrong = "sk-wrong-key-that-must-not-leak";
    for (const provider of [
      new AnthropicProvider({ apiKey: wrong, baseUrl: anthropic.url, maxRetries: 0 }),
      new OpenAiProvider({ apiKey: wrong, baseUrl: openai.url, maxRetries: 0 }),
    ]) {
      const error = await provider
        .complete({ system: "s", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] })
        .catch((e: unknown) => e);
      expect(error, provider.kind).toMatchObject({ code: "model_unauthorized" });
      expect(
        JSON.stringify({
          message: (error as Error).message,
          body: (error as { toBody?: () => unknown }).toBody?.(),
        }),
      ).not.toContain(wrong);
    }
  });

  it("mark the system prompt and the tools for Anthropic's prompt cache", async () => {
    anthropic.reset();
    anthropic.enqueue("ok");
    await new AnthropicProvider({ apiKey: KEY, baseUrl: anthropic.url }).complete({
      system: "the PO's long prompt",
      messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
      tools: [{ name: "a_tool", description: "d", inputSchema: { type: "object", properties: {} } }],
    });
    const body = anthropic.requests.at(-1)?.body as {
      system: { cache_control?: unknown }[];
      tools: { cache_control?: unknown }[];
      stream?: boolean;
    };
    expect(body.stream).toBe(true);
    expect(body.system[0]?.cache_control).toEqual({ type: "ephemeral" });
    expect(body.tools.at(-1)?.cache_control).toEqual({ type: "ephemeral" });
  });

  it("are chosen by the keys present: Anthropic, else OpenAI-compatible, else scripted", () => {
    const script = () => ({ text: "scripted" });
    const base = { anthropicBaseUrl: null, openaiBaseUrl: null };
    expect(
      selectModelProvider({ ...base, credentials: { ANTHROPIC_API_KEY: "a", OPENAI_API_KEY: "o" } }, script)
        .kind,
    ).toBe("anthropic");
    expect(selectModelProvider({ ...base, credentials: { OPENAI_API_KEY: "o" } }, script).kind).toBe(
      "openai",
    );
    expect(selectModelProvider({ ...base, credentials: {} }, script).kind).toBe("scripted");
    // Named by a config but without its key: said, never silently scripted.
    expect(() => selectModelProvider({ ...base, credentials: {}, kind: "anthropic" }, script)).toThrow(
      /ANTHROPIC_API_KEY/,
    );
  });

  it("time each call in the model-provider metrics through the fetch they are given, by provider", async () => {
    const metrics = createMetrics();
    const settings = {
      credentials: { ANTHROPIC_API_KEY: KEY, OPENAI_API_KEY: "sk-wrong-key" },
      anthropicBaseUrl: anthropic.url,
      openaiBaseUrl: openai.url,
      fetchFor: (provider: string) =>
        timedModelFetch(fetch, { metrics, upstreams: { [provider]: { baseUrl: "" } } }),
    };
    const script = () => ({ text: "scripted" });
    const request = {
      system: "You are a test.",
      messages: [{ role: "user" as const, content: [{ type: "text" as const, text: "hi" }] }],
      tools: [],
      maxTokens: 64,
    };
    anthropic.reset();
    anthropic.enqueue({ blocks: [{ text: "hello" }] });
    await selectModelProvider(settings, script).complete(request);
    // A refused key: the OpenAI client's call is counted as that provider's client error.
    await expect(
      selectModelProvider({ ...settings, kind: "openai" }, script).complete(request),
    ).rejects.toThrow();
    const text = await metrics.render();
    expect(text).toMatch(
      /orchestrator_model_request_duration_seconds_count\{[^}]*provider="anthropic",outcome="ok"[^}]*\} 1/,
    );
    expect(text).toMatch(
      /orchestrator_model_request_errors_total\{[^}]*provider="openai",reason="client_error"[^}]*\} 1/,
    );
  });
});
