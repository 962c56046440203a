import {
  AppError,
  type ModelProviderKind,
  ModelRequest,
  type ModelTurn,
  parseOrThrow,
} from "../../contracts/index.js";

/** What a caller may add to one call: a signal that ends it, and live text as it streams. */
export interface ModelCallOptions {
  signal?: AbortSignal;
  /** Text as the model writes it (providers that stream call it per piece; others once). */
  onText?: (delta: string) => void;
}

/** A model reached in-process: one request in, one turn out (text and tool calls). */
export interface ModelProvider {
  readonly kind: ModelProviderKind;
  /** The model used when a request names none. */
  readonly defaultModel: string;
  complete(request: ModelRequest, options?: ModelCallOptions): Promise<ModelTurn>;
}

/** The request with its defaults, checked; a bad one is the caller's error (`invalid_input`). */
export function checkRequest(request: ModelRequest): ReturnType<typeof ModelRequest.parse> {
  return parseOrThrow(ModelRequest, request, "model request");
}

/**
 * Runs `call` under the turn deadline and the caller's signal. Past the deadline the call is
 * aborted and fails as `model_timeout`; a caller's abort is passed on as it came.
 */
export async function withDeadline<T>(
  deadlineMs: number,
  signal: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = AbortSignal.timeout(deadlineMs);
  const both = signal ? AbortSignal.any([deadline, signal]) : deadline;
  try {
    return await call(both);
  } catch (error) {
    if (deadline.aborted && !signal?.aborted) {
      throw new AppError("unavailable", "model_timeout", `the model did not answer within ${deadlineMs} ms`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * A provider's HTTP failure as our error: a key the provider refuses, a request it rejects (our
 * bug), or an outage and rate limit that outlasted the retries. Never carries the key.
 */
export function modelError(
  provider: ModelProviderKind,
  status: number | undefined,
  cause: unknown,
): AppError {
  const detail = cause instanceof Error ? cause.message.slice(0, 300) : String(cause);
  if (status === 401 || status === 403) {
    return new AppError("unavailable", "model_unauthorized", `${provider} refused the key: ${detail}`, {
      cause,
    });
  }
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new AppError("internal", "model_rejected", `${provider} rejected the request: ${detail}`, {
      cause,
    });
  }
  return new AppError("unavailable", "model_unavailable", `${provider} is unavailable: ${detail}`, { cause });
}

/** How a provider reaches its API: the settings both official SDKs' clients take. */
export interface SdkClientSettings {
  apiKey: string;
  /** The provider's own API when null. */
  baseUrl?: string | null;
  /** Retries of 408/409/429/5xx, each after the server's `retry-after` when it sends one. */
  maxRetries?: number;
  /** The `fetch` the SDK calls the provider with (e.g. one that times each call for the metrics). */
  fetch?: typeof fetch;
}

/** The SDK client's own options for these settings. */
export function sdkClientOptions(settings: SdkClientSettings) {
  return {
    apiKey: settings.apiKey,
    ...(settings.baseUrl ? { baseURL: settings.baseUrl } : {}),
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
    maxRetries: settings.maxRetries ?? 3,
  };
}
