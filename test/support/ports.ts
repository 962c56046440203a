import { createServer } from "node:net";

/**
 * A block of `size` ports from `base` for the deploys of one test worker: Vitest runs files in
 * parallel workers (`VITEST_POOL_ID` 1, 2, ...), each with its own orchestrator that cannot see the
 * others' allocations, so each worker deploys on its own ports.
 */
export function workerPortRange(base: number, size = 1_000): [number, number] {
  const worker = Number(process.env.VITEST_POOL_ID ?? "1");
  const low = base + ((Number.isInteger(worker) && worker > 0 ? worker : 1) - 1) * size;
  return [low, low + size - 1];
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
