import type { Config } from "./config.js";
import type { SessionData } from "./context.js";
import { JsonStore } from "./store.js";

/** The part of `fetch` the features use: tests pass a fake. */
export type FetchLike = (
  url: string,
  init: { signal: AbortSignal; headers?: Record<string, string> },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** Where the bot writes what it reports. */
export interface Logger {
  info(message: string): void;
  error(message: string): void;
}

/** The stores on DATA_DIR, one JSON file each. Add one here for new data. */
export interface Stores {
  /** grammY sessions, by chat id. */
  sessions: JsonStore<SessionData>;
  /** The notes feature's lists, by chat id. */
  notes: JsonStore<string[]>;
}

/** Everything outside the bot that features use: injected by `createBot`, faked in tests. */
export interface Deps {
  stores: Stores;
  fetch: FetchLike;
  log: Logger;
  /** Deadline of one outside call (e.g. `AbortSignal.timeout(deps.callTimeoutMs)`). */
  callTimeoutMs: number;
}

/** Opens the stores on `config.dataDir` (throws `CorruptStoreError` for a broken file) and fills in the rest. */
export function openDeps(config: Config, overrides: Partial<Omit<Deps, "stores">> = {}): Deps {
  return {
    stores: {
      sessions: new JsonStore<SessionData>(config.dataDir, "sessions"),
      notes: new JsonStore<string[]>(config.dataDir, "notes"),
    },
    fetch: (url, init) => fetch(url, init),
    log: { info: (m) => console.log(m), error: (m) => console.error(m) },
    callTimeoutMs: 10_000,
    ...overrides,
  };
}
