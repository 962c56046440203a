import type { Metrics } from "./metrics.js";

/**
 * How a model provider call ended: `ok` (2xx or 3xx), `rate_limited` (429), `client_error` (another
 * 4xx), `server_error` (5xx, the providers' overload answers included), `timeout` (our deadline
 * passed), `unreachable` (no answer: DNS, connection, TLS). Every outcome but `ok` is an error.
 */
export type ModelCallOutcome =
  | "ok"
  | "rate_limited"
  | "client_error"
  | "server_error"
  | "timeout"
  | "unreachable";

/** The outcome of an answered call, by its HTTP status. */
export function outcomeOfStatus(status: number): ModelCallOutcome {
  if (status === 429) return "rate_limited";
  if (status >= 500) return "server_error";
  if (status >= 400) return "client_error";
  return "ok";
}

/** Where each provider is reached: the gateway's upstreams (a base URL per provider name). */
export type ProviderBaseUrls = Readonly<Partial<Record<string, { readonly baseUrl: string }>>>;

/**
 * A `fetch` that times each call to a model provider and counts the failed ones
 * (`orchestrator_model_request_duration_seconds`, `orchestrator_model_request_errors_total`),
 * for the model gateway to call its upstreams with. The provider is the one whose base URL the
 * request URL starts with. A call the caller itself gave up on (its agent went away) is no
 * provider's failure and is not counted; the time is until the answer's headers (a streamed answer
 * then keeps flowing).
 */
export function timedModelFetch(
  inner: typeof fetch,
  deps: {
    metrics: Pick<Metrics, "modelRequestDuration" | "modelRequestErrors">;
    upstreams: ProviderBaseUrls;
  },
  now: () => number = performance.now.bind(performance),
): typeof fetch {
  const bases = Object.entries(deps.upstreams).flatMap(([name, upstream]) =>
    upstream ? [{ name, baseUrl: upstream.baseUrl }] : [],
  );
  const providerOf = (url: string) => bases.find((b) => url.startsWith(b.baseUrl))?.name ?? "other";
  const count = (provider: string, outcome: ModelCallOutcome, started: number) => {
    deps.metrics.modelRequestDuration.observe({ provider, outcome }, Math.max(0, now() - started) / 1000);
    if (outcome !== "ok") deps.metrics.modelRequestErrors.inc({ provider, reason: outcome });
  };
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const provider = providerOf(url);
    const started = now();
    let response: Response;
    try {
      response = await inner(input, init);
    } catch (error) {
      const name = (error as { name?: unknown } | null)?.name;
      if (name === "TimeoutError") count(provider, "timeout", started);
      else if (name !== "AbortError") count(provider, "unreachable", started);
      throw error;
    }
    count(provider, outcomeOfStatus(response.status), started);
    return response;
  };
}
