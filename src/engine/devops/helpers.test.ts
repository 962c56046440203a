import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../../test/support/store.js";
import type { Store } from "../../store/index.js";
import { localServer } from "./helpers.js";

describe("localServer", () => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  it("gives engines that ask at once the same record, ready", async () => {
    const servers = await Promise.all(Array.from({ length: 8 }, () => localServer(store)));
    expect(new Set(servers.map((s) => s.id)).size).toBe(1);
    expect(servers.map((s) => s.status)).toEqual(Array(8).fill("ready"));
    expect((await localServer(store)).id).toBe(servers[0]?.id);
  });
});
