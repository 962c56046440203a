import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../test/support/ports.js";
import { AppError } from "../contracts/index.js";
import { ApiClient } from "./api-client.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** An API stand-in answering each request with the next of `answers` (then the last), on `port`. */
async function api(
  answers: [status: number, body: string][],
  port = 0,
): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      hits++;
      const [status, body] = answers[Math.min(hits, answers.length) - 1] ?? [200, "{}"];
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

const settings = (baseUrl: string) => ({ baseUrl, token: "orc_test", tokenSource: "ORCHESTRATOR_TOKEN" });
const unavailable = JSON.stringify({
  error: { code: "store_unavailable", message: "restarting", details: [] },
});

describe("ApiClient", () => {
  it("with a retry window, tries a 503 and a proxy's 502 page again until the API answers", async () => {
    const { url, hits } = await api([
      [503, unavailable],
      [502, "<html>Bad Gateway</html>"],
      [200, JSON.stringify({ data: { recorded: true } })],
    ]);
    const client = new ApiClient(settings(url), { retryWindowMs: 10_000 });
    expect(await client.callTool("report", { status: "complete" })).toEqual({ recorded: true });
    expect(hits()).toBe(3);
  });

  it("with a retry window, waits for an API that is not listening yet", async () => {
    const port = await freePort();
    const later = setTimeout(() => void api([[200, JSON.stringify({ data: "up" })]], port), 700);
    try {
      const client = new ApiClient(settings(`http://127.0.0.1:${port}`), { retryWindowMs: 10_000 });
      expect(await client.callTool("progress", {})).toBe("up");
    } finally {
      clearTimeout(later);
    }
  });

  it("without one, says at once that the API is unavailable, with its code", async () => {
    const { url, hits } = await api([[503, unavailable]]);
    const failed = await new ApiClient(settings(url)).request("GET", "/api/runs").catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(AppError);
    expect(failed).toMatchObject({ kind: "unavailable", code: "store_unavailable" });
    expect(hits()).toBe(1);
  });

  it("takes a refusal as final even with a window, and names a 502 page by its status", async () => {
    const refused = JSON.stringify({
      error: { code: "invalid_input", message: "bad", details: [{ path: "status", message: "x" }] },
    });
    const { url, hits } = await api([[400, refused]]);
    const client = new ApiClient(settings(url), { retryWindowMs: 10_000 });
    await expect(client.callTool("report", {})).rejects.toMatchObject({
      kind: "invalid",
      code: "invalid_input",
    });
    expect(hits()).toBe(1);

    const proxy = await api([[502, "<html>Bad Gateway</html>"]]);
    const short = new ApiClient(settings(proxy.url), { retryWindowMs: 300 });
    await expect(short.request("GET", "/api/runs")).rejects.toMatchObject({ code: "http_502" });
    expect(proxy.hits()).toBeGreaterThan(1);
  });
});
