import { Readable, Transform } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import {
  type AgentBackend,
  type GatewayRefusalType,
  type Principal,
  type Run,
  type TokenCounts,
  type Worker,
  WorkerStateMachine,
} from "../../contracts/index.js";
import type { RunJournal } from "../../events/index.js";
import { type Logger, type Metrics, maskTokens } from "../../observability/index.js";
import type { Store } from "../../store/index.js";
import { estimateCostUsd } from "../pricing.js";
import { findSecrets, type SecretFinder } from "./screen.js";
import {
  anthropicMeter,
  type MeteredUsage,
  openAiChatMeter,
  openAiResponsesMeter,
  type UsageMeter,
} from "./usage.js";

/** The model providers whose protocols the gateway serves. */
export type ProviderName = "anthropic" | "openai";

/** Where a provider is reached and the headers that carry the real credential. */
export interface Upstream {
  /** Base URL without a trailing slash; request paths (`/v1/messages`) are appended. */
  baseUrl: string;
  /** Authentication headers added to every forwarded call. Secret: never logged. */
  headers: Record<string, string>;
}

/** Why a call was not forwarded: an HTTP status and a provider-style error type. */
export class GatewayRefusal extends Error {
  constructor(
    readonly status: number,
    readonly type: GatewayRefusalType,
    message: string,
  ) {
    super(message);
    this.name = "GatewayRefusal";
  }
}

/** The caller of a gateway route: a live agent worker and its run. */
export interface GatewayCaller {
  worker: Worker & { backend: AgentBackend };
  run: Run | null;
}

/** What the route sends back: the provider's status, headers and (streamed) body. */
export interface ForwardedResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable | null;
}

export interface ModelGatewayDeps {
  store: Store;
  /** Where a blocked request is told as a run event. */
  journal: RunJournal;
  logger: Logger;
  metrics: Pick<Metrics, "agentTokens" | "agentCostUsd">;
  upstreams: Partial<Record<ProviderName, Upstream>>;
  secrets: SecretFinder;
  /** Longest a forwarded call may take, streaming included. */
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** Request paths served per provider; `isMetered` calls cost tokens and are recorded. */
const ROUTES: Record<ProviderName, Record<string, { isMetered: boolean; meter: () => UsageMeter }>> = {
  anthropic: {
    "/v1/messages": { isMetered: true, meter: anthropicMeter },
    "/v1/messages/count_tokens": { isMetered: false, meter: anthropicMeter },
  },
  openai: {
    "/v1/chat/completions": { isMetered: true, meter: openAiChatMeter },
    "/v1/responses": { isMetered: true, meter: openAiResponsesMeter },
  },
};

/** Request headers that are the client's business, or ours to set, and are never forwarded. */
const DROPPED_REQUEST_HEADERS = new Set([
  "host",
  "connection",
  "content-length",
  "transfer-encoding",
  "keep-alive",
  "authorization",
  "x-api-key",
  "accept-encoding",
  "cookie",
  "proxy-authorization",
  "upgrade",
  "te",
  "trailer",
]);
const KEPT_RESPONSE_HEADERS =
  /^(content-type|retry-after|request-id|x-request-id|anthropic-|openai-|x-ratelimit-)/i;

/**
 * The model gateway: agent sandboxes speak the providers' own protocols to it with their worker
 * token as the key; it checks the worker is alive, its run has budget left and the request
 * carries no known secret, forwards with the real key, streams the answer back untouched, and
 * records the tokens the provider itself reported (per call, worker, run and project). The real
 * keys live only in the process that runs it.
 */
export class ModelGateway {
  private readonly fetch: typeof fetch;

  constructor(private readonly deps: ModelGatewayDeps) {
    this.fetch = deps.fetch ?? fetch;
  }

  /** The caller behind a token: only a live worker with an agent may call a model. */
  async caller(principal: Principal | null): Promise<GatewayCaller> {
    if (principal?.kind !== "worker" || !principal.workerId) {
      throw new GatewayRefusal(403, "permission_error", "the model gateway serves agent workers only");
    }
    const worker = await this.deps.store.workers.get(principal.workerId);
    if (WorkerStateMachine.isTerminal(worker.state)) {
      throw new GatewayRefusal(403, "permission_error", `worker ${worker.id} has ended`);
    }
    if (worker.backend === "none") {
      throw new GatewayRefusal(403, "permission_error", "this sandbox has no agent and may not call a model");
    }
    const run = worker.runId ? await this.deps.store.runs.get(worker.runId) : null;
    return { worker: worker as GatewayCaller["worker"], run };
  }

  /**
   * Forwards one call. Refuses (GatewayRefusal) an unknown path, an unconfigured provider, a run
   * whose budget is spent or that waits for approval, and a body carrying a known secret (that
   * refusal is recorded on the run, naming the secret and where it sat, never its value).
   */
  async forward(
    caller: GatewayCaller,
    call: {
      provider: ProviderName;
      path: string;
      query: string;
      method: string;
      headers: Record<string, string | string[] | undefined>;
      body: string;
    },
    signal: AbortSignal,
  ): Promise<ForwardedResponse> {
    const { provider } = call;
    const upstream = this.deps.upstreams[provider];
    const route = ROUTES[provider][call.path];
    if (!route) throw new GatewayRefusal(404, "not_found_error", `the gateway does not serve ${call.path}`);
    if (!upstream) {
      throw new GatewayRefusal(
        503,
        "api_error",
        `no ${provider} credential is configured on the orchestrator`,
      );
    }
    if (route.isMetered) this.checkBudget(caller);
    // A sandbox holds its own token (the gateway key, the tools' key), and an agent that prints its
    // environment sends it back: worthless to the model, it must not reach the provider's logs.
    let body = maskTokens(call.body);
    const hits = findSecrets(body, this.deps.secrets);
    if (hits.length > 0) {
      await this.recordBlocked(caller, provider, hits);
      const names = hits.map((h) => `${h.secret} (at ${h.where})`).join(", ");
      throw new GatewayRefusal(
        400,
        "invalid_request_error",
        `the orchestrator blocked this request: it carries a secret value: ${names}`,
      );
    }
    if (provider === "openai" && call.path === "/v1/chat/completions") body = withStreamUsage(body);

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(call.headers)) {
      if (value === undefined || DROPPED_REQUEST_HEADERS.has(name.toLowerCase())) continue;
      headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    for (const [name, value] of Object.entries(upstream.headers)) {
      // A beta flag the credential needs joins the client's own flags instead of replacing them.
      headers[name] = name === "anthropic-beta" && headers[name] ? `${headers[name]},${value}` : value;
    }
    const timeout = AbortSignal.timeout(this.deps.timeoutMs);
    const started = Date.now();
    let response: Response;
    try {
      response = await this.fetch(`${upstream.baseUrl}${call.path}${call.query}`, {
        method: call.method,
        headers,
        ...(call.method === "GET" || call.method === "HEAD" ? {} : { body }),
        signal: AbortSignal.any([signal, timeout]),
      });
    } catch (cause) {
      this.deps.logger.warn(
        { err: cause, provider, workerId: caller.worker.id },
        "model provider unreachable",
      );
      throw new GatewayRefusal(502, "api_error", `the ${provider} API could not be reached`);
    }
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (KEPT_RESPONSE_HEADERS.test(name)) out[name] = value;
    });
    if (!response.body) {
      if (route.isMetered) await this.record(caller, provider, null, started);
      return { status: response.status, headers: out, body: null };
    }
    const meter = route.meter();
    const decoder = new TextDecoder();
    let recording: Promise<void> | null = null;
    const settle = (): Promise<void> => {
      if (!route.isMetered) return Promise.resolve();
      recording ??= (async () => {
        meter.feed(decoder.decode());
        await this.record(caller, provider, meter.finish(), started);
      })().catch((err: unknown) =>
        this.deps.logger.error({ err, workerId: caller.worker.id }, "model call not recorded"),
      );
      return recording;
    };
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        meter.feed(decoder.decode(chunk, { stream: true }));
        done(null, chunk);
      },
      // The answer ends only once its tokens are recorded: whoever reads the records after the
      // agent's turn (the worker manager, the budget check of the next call) sees this call.
      flush(done) {
        void settle().then(() => done());
      },
    });
    // A client that goes away mid-stream still pays for what the provider reported so far.
    tap.on("close", () => void settle());
    const source = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
    source.on("error", (err) => tap.destroy(err));
    return { status: response.status, headers: out, body: source.pipe(tap) };
  }

  private checkBudget(caller: GatewayCaller): void {
    const run = caller.run;
    if (!run) return;
    if (run.status === "awaiting_approval") {
      throw new GatewayRefusal(
        402,
        "budget_exhausted_error",
        "the run is waiting for an admin to grant more budget",
      );
    }
    if (run.budgetUsd !== null && run.costUsd >= run.budgetUsd) {
      throw new GatewayRefusal(
        402,
        "budget_exhausted_error",
        `the run's budget of $${run.budgetUsd.toFixed(2)} is spent ($${run.costUsd.toFixed(4)}); an admin can grant more`,
      );
    }
  }

  /** One TokenUsage row per call, the run's totals and the Prometheus counters. */
  private async record(
    caller: GatewayCaller,
    provider: ProviderName,
    seen: MeteredUsage | null,
    started: number,
  ): Promise<void> {
    const { worker } = caller;
    const usage: TokenCounts = seen?.usage ?? {
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    };
    const model = seen?.model ?? "unknown";
    const estimate = estimateCostUsd(model, usage);
    const costSource = estimate.costSource === "estimated" ? "metered" : "unknown";
    await this.deps.store.tokenUsage.record({
      workerId: worker.id,
      projectId: worker.projectId,
      runId: worker.runId,
      backend: worker.backend,
      model,
      ...usage,
      costUsd: estimate.costUsd,
      costSource,
    });
    if (worker.runId) {
      await this.deps.store.runs.addUsage(worker.runId, {
        tokensIn: usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens,
        tokensOut: usage.outputTokens,
        costUsd: estimate.costUsd,
      });
    }
    const labels = { backend: worker.backend, model };
    this.deps.metrics.agentTokens.inc({ ...labels, kind: "input" }, usage.inputTokens);
    this.deps.metrics.agentTokens.inc({ ...labels, kind: "output" }, usage.outputTokens);
    this.deps.metrics.agentTokens.inc({ ...labels, kind: "cache_read" }, usage.cacheReadTokens);
    this.deps.metrics.agentTokens.inc({ ...labels, kind: "cache_write" }, usage.cacheWriteTokens);
    this.deps.metrics.agentCostUsd.inc({ ...labels, source: costSource }, estimate.costUsd);
    this.deps.logger.debug(
      { provider, workerId: worker.id, runId: worker.runId, model, ...usage, ms: Date.now() - started },
      "model call",
    );
  }

  private async recordBlocked(
    caller: GatewayCaller,
    provider: ProviderName,
    hits: { secret: string; where: string }[],
  ): Promise<void> {
    const { worker } = caller;
    this.deps.logger.warn(
      { provider, workerId: worker.id, runId: worker.runId, secrets: hits },
      "model request blocked: it carries a secret",
    );
    if (!worker.runId) return;
    await this.deps.journal.append({
      runId: worker.runId,
      type: "llm.request_blocked",
      data: { workerId: worker.id, role: worker.role, backend: worker.backend, provider, secrets: hits },
    });
  }
}

/** Asks for the usage chunk at the end of a streamed chat completion (the only place it is sent). */
function withStreamUsage(body: string): string {
  try {
    const doc = JSON.parse(body) as Record<string, unknown>;
    if (doc.stream !== true) return body;
    const options =
      typeof doc.stream_options === "object" && doc.stream_options !== null ? doc.stream_options : {};
    return JSON.stringify({ ...doc, stream_options: { ...options, include_usage: true } });
  } catch {
    return body;
  }
}
