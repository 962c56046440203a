import type { FastifyReply, FastifyRequest } from "fastify";
import { GatewayRefusal, type ModelGateway, type ProviderName } from "../../llm/index.js";
import type { Api } from "../context.js";

/** Largest request body a model call may carry (long conversations with tool output and images). */
const BODY_LIMIT_BYTES = 64 * 1024 * 1024;
const PROVIDERS: ProviderName[] = ["anthropic", "openai"];

/** An error body in the provider's own shape, so its CLI reports the reason as it would the provider's. */
function providerError(provider: ProviderName, refusal: GatewayRefusal): unknown {
  return provider === "anthropic"
    ? { type: "error", error: { type: refusal.type, message: refusal.message } }
    : { error: { message: refusal.message, type: refusal.type, code: refusal.type } };
}

/**
 * The model gateway over HTTP: `/llm/anthropic/v1/messages` (streaming or not, plus
 * `count_tokens`) and `/llm/openai/v1/chat/completions` and `/v1/responses`, for worker tokens
 * given as a bearer token or as Anthropic's `x-api-key`. Bodies pass through as raw text: the
 * gateway forwards exactly what the agent sent, less masked tokens. `GET|HEAD /llm/<provider>`
 * answers without a token: CLIs probe their base URL before the first call.
 */
export function registerLlmRoutes(app: Api, gateway: ModelGateway): void {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "string", bodyLimit: BODY_LIMIT_BYTES }, (_req, body, done) =>
      done(null, body),
    );
    for (const provider of PROVIDERS) {
      const prefix = `/llm/${provider}`;
      for (const probe of [prefix, `${prefix}/`]) {
        scope.route({
          method: ["GET", "HEAD"],
          url: probe,
          config: { access: "public" },
          handler: async () => ({ ok: true }),
        });
      }
      scope.route({
        method: ["GET", "POST"],
        url: `${prefix}/*`,
        bodyLimit: BODY_LIMIT_BYTES,
        config: { access: "token", acceptsApiKeyHeader: true },
        handler: (req, reply) => forward(gateway, provider, prefix, req, reply),
      });
    }
  });
}

async function forward(
  gateway: ModelGateway,
  provider: ProviderName,
  prefix: string,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const url = req.url.slice(prefix.length);
  const queryAt = url.indexOf("?");
  const path = queryAt >= 0 ? url.slice(0, queryAt) : url;
  const query = queryAt >= 0 ? url.slice(queryAt) : "";
  // The agent hanging up ends the upstream call too (the tokens used so far are still recorded).
  const hangUp = new AbortController();
  reply.raw.on("close", () => hangUp.abort());
  try {
    const caller = await gateway.caller(req.principal);
    const res = await gateway.forward(
      caller,
      {
        provider,
        path,
        query,
        method: req.method,
        headers: req.headers,
        body: typeof req.body === "string" ? req.body : "",
      },
      hangUp.signal,
    );
    reply.code(res.status).headers(res.headers);
    return reply.send(res.body ?? "");
  } catch (error) {
    if (!(error instanceof GatewayRefusal)) throw error;
    return reply.code(error.status).send(providerError(provider, error));
  }
}
