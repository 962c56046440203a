import { describe, expect, it } from "vitest";
import { runBusConformance } from "./bus.conformance.js";
import { InProcessBus } from "./memory-bus.js";

runBusConformance("InProcessBus", async () => new InProcessBus());

describe("InProcessBus stream lengths", () => {
  it("keeps a named stream to its own length and the others to the general one", async () => {
    const bus = new InProcessBus({ maxLen: 4, streamMaxLen: { small: 2 } });
    for (let i = 0; i < 6; i++) {
      await bus.publish("small", { type: "t", payload: i });
      await bus.publish("big", { type: "t", payload: i });
    }
    // A new group starts at the oldest entry the stream still holds.
    const read = async (stream: string) => {
      const seen: unknown[] = [];
      const sub = bus.consume(stream, { group: "g", consumer: "c" }, async (d) => {
        seen.push(d.envelope.payload);
      });
      const expected = stream === "small" ? 2 : 4;
      for (let i = 0; i < 200 && seen.length < expected; i++) await new Promise((r) => setTimeout(r, 5));
      await sub.stop();
      return seen;
    };
    expect(await read("small")).toEqual([4, 5]);
    expect(await read("big")).toEqual([2, 3, 4, 5]);
    await bus.close();
  });
});
