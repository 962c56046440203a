import { createServer, Socket } from "node:net";

export interface Front {
  /**
   * Stops listening and drops the connections still open, as a load balancer shut down does; a
   * client that never closes its side must not keep the cluster's stop waiting. Returns what it dropped.
   */
  close(): Promise<string[]>;
}

/** A TCP front sending each connection to the first of `targets()` that accepts it. */
export function startFront(port: number, targets: () => number[]): Promise<Front> {
  /** Each client connection open, with when it came and the upstream it was given. */
  const open = new Map<Socket, { since: number; upstream: Socket | null }>();
  const server = createServer((client) => {
    const entry: { since: number; upstream: Socket | null } = { since: Date.now(), upstream: null };
    open.set(client, entry);
    client.once("close", () => open.delete(client));
    client.pause();
    const tryNext = (left: number[]) => {
      const [target, ...rest] = left;
      if (target === undefined) {
        client.destroy();
        return;
      }
      const upstream = new Socket();
      upstream.once("error", () => {
        upstream.destroy();
        tryNext(rest);
      });
      upstream.connect(target, "127.0.0.1", () => {
        entry.upstream = upstream;
        upstream.removeAllListeners("error");
        upstream.on("error", () => client.destroy());
        client.on("error", () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    // A random first choice spreads the load; the others are the fallback.
    const all = targets().sort(() => Math.random() - 0.5);
    tryNext(all);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () =>
      resolve({
        close: async () => {
          const closed = new Promise((done) => server.close(done));
          const dropped = [...open].map(
            ([client, { since, upstream }]) =>
              `client port ${client.remotePort} open ${Math.round((Date.now() - since) / 1000)} s, upstream ${upstream?.remotePort ?? "none"}`,
          );
          for (const [client, { upstream }] of open) {
            client.destroy();
            upstream?.destroy();
          }
          await closed;
          return dropped;
        },
      }),
    );
  });
}
