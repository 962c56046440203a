/**
 * A slow network in front of a fake model API: every request is held for a delay (or until let go)
 * before it is passed on, so a test sees a model that thinks, or one that never answers. Requests
 * and answers are passed through unchanged.
 */
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface ModelLatency {
  /** Base URL to give the client instead of the fake's. */
  readonly url: string;
  /** Requests waiting to be passed on now. */
  readonly held: number;
  /** Requests passed on so far. */
  readonly passed: number;
  /** Milliseconds each request waits from now on (a number, or a function per request). */
  setDelay(delay: number | (() => number)): void;
  /** Holds every request from now on until `release` (a model that does not answer). */
  hold(): void;
  /** Passes on whatever is held and stops holding. */
  release(): void;
  close(): Promise<void>;
}

/** Starts the proxy on 127.0.0.1 at a free port, in front of `target` (a base URL). */
export async function startModelLatency(target: string): Promise<ModelLatency> {
  const upstream = new URL(target);
  let delay: () => number = () => 0;
  let holding = false;
  let passed = 0;
  const waiting = new Set<() => void>();

  const forward = (req: IncomingMessage, body: Buffer, res: import("node:http").ServerResponse) => {
    passed += 1;
    const out = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", () => res.destroy());
    out.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const go = () => {
        if (!waiting.delete(go)) return;
        if (!res.destroyed) forward(req, body, res);
      };
      // A client that gave up (its deadline) is not answered later.
      res.on("close", () => waiting.delete(go));
      waiting.add(go);
      if (holding) return;
      setTimeout(go, delay());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get held() {
      return waiting.size;
    },
    get passed() {
      return passed;
    },
    setDelay(value) {
      delay = typeof value === "number" ? () => value : value;
    },
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const go of [...waiting]) go();
    },
    close: () =>
      new Promise<void>((resolve) => {
        holding = false;
        waiting.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
