import { createServer } from "node:net";

/**
 * A block of `size` ports from `base` for the deploys of one test worker: Vitest runs files in
 * parallel workers (`VITEST_POOL_ID` 1, 2, ...), each with its own orchestrator that cannot see the
 * others' allocations, so each worker deploys on its own ports.
 */
export function workerPortRange(base: number, size = 1_000): [number, number] {
  const low = base + (poolId() - 1) * size;
  return [low, low + size - 1];
}

function poolId(): number {
  const worker = Number(process.env.VITEST_POOL_ID ?? "1");
  return Number.isInteger(worker) && worker > 0 ? worker : 1;
}

// Below the deploy ranges (20000 and up) and below Linux's ephemeral range (32768 and up): a port the
// OS picked for us (`listen(0)`) is back in its pool once closed, so another process listening on port
// 0, or even an outgoing connection, could take it before our server binds it. These ports the OS never
// hands out on its own; each test worker takes from its own block, and never the same port twice.
const FREE_BASE = 10_000;
const FREE_BLOCK = 2_500;
const handedOut = new Set<number>();

/** A port free on 127.0.0.1 now, that nothing else in the test run will be given meanwhile. */
export async function freePort(): Promise<number> {
  const low = FREE_BASE + ((poolId() - 1) % 4) * FREE_BLOCK;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * FREE_BLOCK);
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${low}-${low + FREE_BLOCK - 1}`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
