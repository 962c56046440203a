import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { cliApiUrl, cliDataDir } from "../config/index.js";
import { AppError, ErrorBody, type ErrorKind } from "../contracts/index.js";

/** Where the CLI finds the API and its token: env first, then the data directory's token file. */
export interface ClientSettings {
  baseUrl: string;
  token: string | null;
  /** Where the token came from (`ORCHESTRATOR_TOKEN` or the file's path), for error messages. */
  tokenSource: string | null;
}

export function clientSettings(env: NodeJS.ProcessEnv): ClientSettings {
  const baseUrl = cliApiUrl(env);
  const fromEnv = env.ORCHESTRATOR_TOKEN?.trim();
  if (fromEnv) return { baseUrl, token: fromEnv, tokenSource: "ORCHESTRATOR_TOKEN" };
  // `up` and `serve` leave their first admin token here (mode 0600) for the CLI.
  const file = resolve(cliDataDir(env), "admin.token");
  try {
    const token = readFileSync(file, "utf8").trim() || null;
    return { baseUrl, token, tokenSource: token ? file : null };
  } catch {
    return { baseUrl, token: null, tokenSource: null };
  }
}

/** The error kind of an HTTP status, so the CLI's errors keep the API's meaning. */
function kindOfStatus(status: number): ErrorKind {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 503) return "unavailable";
  return status >= 500 ? "internal" : "invalid";
}

/** Answers that say "not now" rather than "no": an api process restarting, or what is behind it. */
const TRANSIENT_STATUS = new Set([502, 503, 504]);
const RETRY_PAUSE_MS: [first: number, longest: number] = [250, 2_000];

export interface ApiClientOptions {
  /**
   * How long a request that could not reach the API, or met a 502-504, is tried again (0: never).
   * The `mcp` server an agent talks through sets it, so a restart of the API is a pause in the
   * agent's turn, not a failed report.
   */
  retryWindowMs?: number;
}

/** A small JSON client of the orchestrator API; failures become `AppError`s with the API's body. */
export class ApiClient {
  constructor(
    private readonly settings: ClientSettings,
    private readonly options: ApiClientOptions = {},
  ) {}

  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const deadline = Date.now() + (this.options.retryWindowMs ?? 0);
    const [first, longest] = RETRY_PAUSE_MS;
    for (let attempt = 1; ; attempt++) {
      const answer = await this.#requestOnce(method, path, body);
      if (!("error" in answer)) return answer.json;
      if (!answer.transient || Date.now() >= deadline) throw answer.error;
      const pauseMs = Math.min(longest, first * 2 ** (attempt - 1), Math.max(0, deadline - Date.now()));
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  /** One try: the answer's JSON, or the error it comes to and whether trying again may help. */
  async #requestOnce(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ json: unknown } | { error: AppError; transient: boolean }> {
    if (!this.settings.token) {
      throw new AppError(
        "unauthorized",
        "no_token",
        "no API token: set ORCHESTRATOR_TOKEN, or ORCHESTRATOR_DATA_DIR to the data directory of the `up` or `serve` that printed one (looked in ./.orchestrator)",
      );
    }
    let response: Response;
    try {
      response = await fetch(`${this.settings.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.settings.token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (cause) {
      const error = new AppError(
        "unavailable",
        "api_unreachable",
        `cannot reach the API at ${this.settings.baseUrl}`,
        { cause },
      );
      return { error, transient: true };
    }
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? (JSON.parse(text) as unknown) : null;
    } catch (cause) {
      // Not the API's JSON (a proxy's error page, say): a refusal's status and text still say what
      // happened; a success without JSON is an answer this client cannot use.
      if (response.ok) {
        const message = `${this.settings.baseUrl}${path} answered ${response.status} without JSON`;
        return { error: new AppError("internal", "api_not_json", message, { cause }), transient: false };
      }
    }
    if (!response.ok) {
      const parsed = ErrorBody.safeParse((json as { error?: unknown } | null)?.error);
      const body = parsed.success
        ? parsed.data
        : { code: `http_${response.status}`, message: text.slice(0, 200), details: [] };
      // Name who refused which token: with several orchestrators on one machine, the CLI may
      // well be talking to another one than the person thinks.
      const message =
        response.status === 401
          ? `${body.message}: ${this.settings.baseUrl} refused the token from ${this.settings.tokenSource} (set ORCHESTRATOR_API_URL to reach another orchestrator)`
          : body.message;
      const error = AppError.fromBody(kindOfStatus(response.status), body, { message });
      return { error, transient: TRANSIENT_STATUS.has(response.status) };
    }
    return { json };
  }

  /** Calls one tool through `POST /api/tools/:name`. */
  async callTool(name: string, input: unknown): Promise<unknown> {
    const result = (await this.request("POST", `/api/tools/${encodeURIComponent(name)}`, input)) as {
      data: unknown;
    };
    return result.data;
  }
}
