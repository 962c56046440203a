/** What an API call answered: its status and its JSON body (null when the body is empty or not JSON). */
export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  json: T;
  text: string;
}

/**
 * The HTTP API called with a bearer token, as an operator's script or the CLI would: `answer` gives
 * any status back to be checked, `ok` throws with the status and body unless it is 2xx.
 */
export function apiCaller(baseUrl: string, token: string) {
  const answer = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<ApiAnswer<T>> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null; // not JSON: `text` has it
    }
    return { status: res.status, json: json as T, text };
  };
  const ok = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> => {
    const res = await answer<T>(method, path, body);
    if (res.status < 200 || res.status >= 300)
      throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.json;
  };
  return { answer, ok };
}
