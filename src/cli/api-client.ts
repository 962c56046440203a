import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { AppError, ErrorBody } from "../contracts/index.js";

/** Where the CLI finds the API and its token: env first, then the embedded data directory. */
export interface ClientSettings {
  baseUrl: string;
  token: string | null;
}

export function clientSettings(env: NodeJS.ProcessEnv): ClientSettings {
  const port = env.ORCHESTRATOR_PORT?.trim() || "8080";
  const baseUrl = (env.ORCHESTRATOR_API_URL?.trim() || `http://127.0.0.1:${port}`).replace(/\/+$/, "");
  let token = env.ORCHESTRATOR_TOKEN?.trim() || null;
  if (!token) {
    // `orchestrator up` leaves its first admin token here (mode 0600) for the local CLI.
    const file = resolve(env.ORCHESTRATOR_DATA_DIR?.trim() || "./.orchestrator", "admin.token");
    try {
      token = readFileSync(file, "utf8").trim() || null;
    } catch {
      token = null;
    }
  }
  return { baseUrl, token };
}

/** A small JSON client of the orchestrator API; failures become `AppError`s with the API's body. */
export class ApiClient {
  constructor(private readonly settings: ClientSettings) {}

  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    if (!this.settings.token) {
      throw new AppError(
        "unauthorized",
        "no_token",
        "no API token: set ORCHESTRATOR_TOKEN (or run `orchestrator up` in this folder)",
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
      throw new AppError(response.status === 404 ? "not_found" : "invalid", body.code, body.message, {
        details: body.details,
      });
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
