import type { ChatMessage, Conversation, ErrorBody, Language, Me, Project } from "./contract";

/**
 * An answer of the API that was not a success, with the API's own code and message; `status` 0
 * means the server could not be reached at all.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorBody["details"] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Reads the error body of a failed response; a body that is not ours keeps the HTTP status text. */
  static async from(response: Response): Promise<ApiError> {
    const body: unknown = await response.json().catch(() => null);
    const error = (body as { error?: Partial<ErrorBody> } | null)?.error;
    if (error && typeof error.message === "string") {
      return new ApiError(
        response.status,
        typeof error.code === "string" ? error.code : "unknown",
        error.message,
        Array.isArray(error.details) ? error.details : [],
      );
    }
    return new ApiError(response.status, "http_error", `${response.status} ${response.statusText}`.trim());
  }

  /** The session or token was refused: the person has to sign in again. */
  get isUnauthorized(): boolean {
    return this.status === 401;
  }
}

/** Any failure as an ApiError: a fetch that never reached the server becomes status 0. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, "network", error instanceof Error ? error.message : String(error));
}

/**
 * One call to the API with this browser's session: JSON in and out, the session cookie sent by the
 * browser itself, and `csrfToken` echoed on every write. A failure is an `ApiError` (status 0 when
 * the server could not be reached); a 204 resolves to undefined.
 */
export async function apiRequest<T>(
  method: string,
  url: string,
  options: { body?: unknown; csrfToken?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const { body, csrfToken, signal } = options;
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      cache: "no-store",
      ...(signal ? { signal } : {}),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw asApiError(error);
  }
  if (!response.ok) throw await ApiError.from(response);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

/**
 * The web chat API for one signed-in person: the session cookie goes with every call by itself,
 * and writes echo the session's CSRF value.
 */
export class ChatApi {
  constructor(
    readonly csrfToken: string,
    readonly baseUrl = "",
  ) {}

  me(): Promise<Me> {
    return this.call("GET", "/api/chat/me");
  }

  async conversations(): Promise<Conversation[]> {
    return (await this.call<{ items: Conversation[] }>("GET", "/api/chat/conversations")).items;
  }

  createConversation(language: Language): Promise<Conversation> {
    return this.call("POST", "/api/chat/conversations", { language });
  }

  setLanguage(conversationId: string, language: Language): Promise<Conversation> {
    return this.call("PATCH", `/api/chat/conversations/${encodeURIComponent(conversationId)}`, { language });
  }

  async messages(conversationId: string, after = 0): Promise<ChatMessage[]> {
    const path = `/api/chat/conversations/${encodeURIComponent(conversationId)}/messages?after=${after}`;
    return (await this.call<{ items: ChatMessage[] }>("GET", path)).items;
  }

  async send(conversationId: string, text: string): Promise<ChatMessage> {
    const path = `/api/chat/conversations/${encodeURIComponent(conversationId)}/messages`;
    return (await this.call<{ message: ChatMessage }>("POST", path, { text })).message;
  }

  /** A value for a secret the PO asked for: stored for the project, never a message. */
  async fillSecret(conversationId: string, key: string, value: string): Promise<string[]> {
    const path = `/api/chat/conversations/${encodeURIComponent(conversationId)}/secret`;
    return (await this.call<{ notices: string[] }>("POST", path, { key, value })).notices;
  }

  async projects(): Promise<Project[]> {
    return (await this.call<{ items: Project[] }>("GET", "/api/chat/projects")).items;
  }

  /** The URL of a conversation's event stream, resuming after `after`. */
  streamUrl(conversationId: string, after: number): string {
    return `${this.baseUrl}/api/chat/conversations/${encodeURIComponent(conversationId)}/stream?after=${after}`;
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return apiRequest<T>(method, `${this.baseUrl}${path}`, { body, csrfToken: this.csrfToken });
  }
}
