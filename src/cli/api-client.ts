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

/** A small JSON client of the orchestrator API; failures become `AppError`s with the API's body. */
export class ApiClient {
  constructor(private readonly settings: ClientSettings) {}

  async request(method: string, path: string, body?: unknown): Promise<unknown> {
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
      throw new AppError(
        "unavailable",
        "api_unreachable",
        `cannot reach the API at ${this.settings.baseUrl}`,
        { cause },
      );
    }
    const text = await response.text();
    const json = text ? (JSON.parse(text) as unknown) : null;
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
      throw AppError.fromBody(kindOfStatus(response.status), body, { message });
    }
    return json;
  }

  /** Calls one tool through `POST /api/tools/:name`. */
  async callTool(name: string, input: unknown): Promise<unknown> {
    const result = (await this.request("POST", `/api/tools/${encodeURIComponent(name)}`, input)) as {
      data: unknown;
    };
    return result.data;
  }
}
