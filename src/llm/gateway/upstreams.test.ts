import { describe, expect, it } from "vitest";
import { ANTHROPIC_OAUTH_BETA, upstreamsFrom } from "./upstreams.js";

describe("upstreamsFrom", () => {
  it("serves only the providers whose key is configured", () => {
    expect(upstreamsFrom({ anthropicBaseUrl: null, openaiBaseUrl: null, credentials: {} })).toEqual({});
    expect(
      Object.keys(
        upstreamsFrom({
          anthropicBaseUrl: null,
          openaiBaseUrl: null,
          credentials: { OPENAI_API_KEY: "sk-o" },
        }),
      ),
    ).toEqual(["openai"]);
  });

  it("sends Anthropic's key as x-api-key, a subscription token as a bearer with its beta flag", () => {
    const byKey = upstreamsFrom({
      anthropicBaseUrl: "http://models.test/",
      openaiBaseUrl: null,
      credentials: { ANTHROPIC_API_KEY: "sk-ant-k", CLAUDE_CODE_OAUTH_TOKEN: "oat-t" },
    });
    expect(byKey.anthropic).toEqual({ baseUrl: "http://models.test", headers: { "x-api-key": "sk-ant-k" } });
    const byOauth = upstreamsFrom({
      anthropicBaseUrl: null,
      openaiBaseUrl: null,
      credentials: { CLAUDE_CODE_OAUTH_TOKEN: "oat-t" },
    });
    expect(byOauth.anthropic).toEqual({
      baseUrl: "https://api.anthropic.com",
      headers: { authorization: "Bearer oat-t", "anthropic-beta": ANTHROPIC_OAUTH_BETA },
    });
  });

  it("takes an OpenAI-compatible base URL with or without /v1 (the gateway's paths carry it)", () => {
    for (const base of ["http://vllm.test:8000/v1", "http://vllm.test:8000/v1/", "http://vllm.test:8000"]) {
      const up = upstreamsFrom({
        anthropicBaseUrl: null,
        openaiBaseUrl: base,
        credentials: { OPENAI_API_KEY: "k" },
      });
      expect(up.openai?.baseUrl).toBe("http://vllm.test:8000");
    }
  });
});
