import { type AddressInfo, createServer, type Server, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "./ports.js";
import { type Front, startFront } from "./tcp-front.js";
import { until } from "./until.js";

/** An echo server that never closes a connection itself. */
async function echo(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A client connected to `port`. */
async function connect(port: number): Promise<Socket> {
  const socket = new Socket();
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.connect(port, "127.0.0.1", resolve);
  });
  return socket;
}
/** Writes `text` and resolves with what comes back first, or "(closed)". */
const roundTrip = (socket: Socket, text: string) =>
  new Promise<string>((resolve) => {
    socket.once("data", (chunk) => resolve(chunk.toString()));
    socket.once("close", () => resolve("(closed)"));
    socket.on("error", () => undefined);
    socket.write(text);
  });

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A front on a free port, closed after the test. */
async function front(targets: () => number[]): Promise<{ front: Front; port: number }> {
  const port = await freePort();
  const started = await startFront(port, targets);
  cleanups.push(() => started.close());
  return { front: started, port };
}

describe("the API front of a role cluster", () => {
  it("sends each connection to the live target when the others refuse", async () => {
    const live = await echo();
    cleanups.push(() => new Promise((resolve) => live.server.close(resolve)));
    const dead = [await freePort(), await freePort()];
    const { port } = await front(() => [...dead, live.port]);
    // The first choice is random: eight connections all trying the live one first is 1 in 6561.
    for (let i = 0; i < 8; i++) {
      const client = await connect(port);
      expect(await roundTrip(client, `ping ${i}`)).toBe(`ping ${i}`);
      client.destroy();
    }
  });

  it("closes at once with a client that never closes its side, and names what it dropped", async () => {
    const live = await echo();
    cleanups.push(() => new Promise((resolve) => live.server.close(resolve)));
    const { front: started, port } = await front(() => [live.port]);
    const client = await connect(port);
    cleanups.push(async () => client.destroy());
    expect(await roundTrip(client, "hello")).toBe("hello");
    const clientClosed = new Promise((resolve) => client.once("close", resolve));
    client.on("error", () => undefined);

    const dropped = await started.close();
    expect(dropped).toEqual([
      expect.stringMatching(
        new RegExp(`^client port ${client.localPort} open \\d+ s, upstream ${live.port}$`),
      ),
    ]);
    await clientClosed;
    // The upstream connection went too: the echo server is left with none.
    await until("the echo server to have no connection left", 5_000, async () => {
      const count = await new Promise<number>((resolve, reject) =>
        live.server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
      );
      return count === 0 ? true : null;
    });
  });
});
