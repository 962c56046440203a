/** The HTTP health gate against real HTTP servers on loopback: healthy late, never, hung, and dead. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../../test/support/ports.js";
import { AppError } from "../../contracts/index.js";
import { httpHealthGate } from "./index.js";

const servers: Server[] = [];

/** A server whose handler sees the 1-based request number; returns its base URL. */
async function serve(handle: (n: number, path: string, res: import("node:http").ServerResponse) => void) {
  let n = 0;
  const server = createServer((req, res) => {
    n += 1;
    handle(n, req.url ?? "/", res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe("httpHealthGate", () => {
  it("passes on the first 2xx after failing answers, probing the given path", async () => {
    const paths: string[] = [];
    const url = await serve((n, path, res) => {
      paths.push(path);
      res.writeHead(n < 3 ? 503 : 204).end();
    });
    const result = await httpHealthGate({ url, path: "/health", intervalMs: 20, deadlineMs: 10_000 });
    expect(result).toMatchObject({ ok: true, attempts: 3, status: 204 });
    expect(paths).toEqual(["/health", "/health", "/health"]);
  });

  it("fails at the deadline with the last problem when nothing listens", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await httpHealthGate({ url, path: "/health", intervalMs: 50, deadlineMs: 400 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.attempts).toBeGreaterThan(1);
    expect(result.reason).toContain(`GET ${url}/health gave no 2xx within 400 ms`);
    expect(result.reason).toContain("connection refused");
  });

  it("reports a non-2xx status as the last problem", async () => {
    const url = await serve((_n, _path, res) => res.writeHead(500).end("boom"));
    const result = await httpHealthGate({ url, path: "/ready", intervalMs: 50, deadlineMs: 300 });
    expect(result).toMatchObject({ ok: false });
    if (!result.ok) expect(result.reason).toContain("last: status 500");
  });

  it("keeps the last real problem when the deadline cuts the final probe short", async () => {
    // 500 first, then no answer at all: the second probe only gets what is left of the deadline.
    const url = await serve((n, _path, res) => {
      if (n === 1) res.writeHead(500).end();
    });
    const result = await httpHealthGate({
      url,
      path: "/health",
      intervalMs: 50,
      requestTimeoutMs: 5_000,
      deadlineMs: 400,
    });
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    if (!result.ok) expect(result.reason).toContain("last: status 500");
  });

  it("gives each request its own timeout, so a hung service still gets several probes", async () => {
    const url = await serve(() => {
      // never answers
    });
    const result = await httpHealthGate({
      url,
      path: "/health",
      intervalMs: 20,
      requestTimeoutMs: 100,
      deadlineMs: 1_000,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.attempts).toBeGreaterThan(1);
    expect(result.reason).toMatch(/last: timed out after \d+ ms/);
  });

  it("stops early with a reason when the process is no longer alive", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    let checks = 0;
    const result = await httpHealthGate({
      url,
      path: "/health",
      intervalMs: 20,
      deadlineMs: 60_000,
      isAlive: async () => {
        checks += 1;
        return checks < 3;
      },
    });
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    if (!result.ok) expect(result.reason).toBe("the process exited (last probe: connection refused)");
  });

  it("rejects bad options naming the field", async () => {
    const error = await httpHealthGate({ url: "ftp://example", path: "health" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    const paths = (error as AppError).details.map((d) => d.path).sort();
    expect(paths).toEqual(["path", "url"]);
  });
});
