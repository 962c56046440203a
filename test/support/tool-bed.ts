import { InProcessBus } from "../../src/bus/index.js";
import type { Principal } from "../../src/contracts/index.js";
import { createLogger, SecretRedactor } from "../../src/observability/index.js";
import type { Store } from "../../src/store/index.js";
import { createToolRegistry, type ToolServices, toolContextFor } from "../../src/tools/index.js";
import { openTestStore } from "./store.js";

/**
 * The tool registry on a throwaway embedded store, with two people (Alice and Bob, each a `user`
 * principal) and an admin: what tests of the tools, and of those who call them, start from.
 */
export interface ToolBed {
  store: Store;
  services: ToolServices;
  registry: ReturnType<typeof createToolRegistry>;
  alice: Principal & { kind: "user" };
  bob: Principal & { kind: "user" };
  admin: Principal;
  /** Invokes a tool through the registry as `principal`. */
  call<T>(principal: Principal, name: string, input: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function openToolBed(): Promise<ToolBed> {
  const store = await openTestStore();
  const services: ToolServices = {
    store,
    bus: new InProcessBus(),
    logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
  };
  const registry = createToolRegistry();
  const person = async (name: string, telegramId: string) => ({
    kind: "user" as const,
    tokenId: `tok-${name.toLowerCase()}`,
    userId: (await store.users.create({ name, telegramId })).id,
  });
  return {
    store,
    services,
    registry,
    alice: await person("Alice", "1001"),
    bob: await person("Bob", "1002"),
    admin: { kind: "admin", tokenId: "tok-admin" },
    call: <T>(principal: Principal, name: string, input: unknown) =>
      registry.invoke(name, input, toolContextFor(principal, services)) as Promise<T>,
    close: () => store.close(),
  };
}
