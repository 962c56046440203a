import { z } from "zod";
import {
  AppError,
  LOCAL_SERVER,
  type Page,
  PageQuery,
  parseOrThrow,
  type Server,
  type ServerCheck,
  type ServerFacts,
  ServerRegisterInput,
} from "../../contracts/index.js";
import type { Logger } from "../../observability/index.js";
import type { Job } from "../../scheduler/index.js";
import type { Vault } from "../../secrets/index.js";
import type { Store } from "../../store/index.js";
import { checkPrivateKey } from "../ssh/index.js";
import { ServerConnector, sealCredentials } from "./credentials.js";
import { capacityOf, probeServer } from "./probe.js";

/** Free disk on `/` a server needs to be `ready` (images and releases live there). */
export const MIN_FREE_DISK_MB = 1024;
/** Available memory a server needs to be `ready`. */
export const MIN_AVAILABLE_MEMORY_MB = 128;
/** Bound on each command of a check. */
const CHECK_COMMAND_TIMEOUT_MS = 30_000;
/** How long `stop()` waits for a running round of health checks. */
const STOP_DEADLINE_MS = 30_000;
const PAGE_SIZE = 200;

export interface ServerServiceOptions {
  store: Store;
  vault: Vault;
  logger: Logger;
  /** `DOCKER_HOST` on a server (e.g. a test engine's socket), or null for its default engine. */
  dockerHostFor?: (server: Server) => string | null;
  minFreeDiskMb?: number;
  minAvailableMemoryMb?: number;
  commandTimeoutMs?: number;
  readyTimeoutMs?: number;
}

/**
 * Deploy servers: registration (the SSH key stored encrypted), the provisioning check over SSH
 * (OS, disk, memory, Docker and Compose) that moves a server to `ready` or `error` with the reason,
 * removal, and a periodic re-check of servers in use. Every method validates its input and throws
 * `AppError`; the key never leaves the vault except into an SSH handshake.
 */
export class ServerService {
  readonly connector: ServerConnector;
  private readonly inFlight = new Map<string, Promise<ServerCheck>>();
  private round: Promise<void> | null = null;

  constructor(private readonly opts: ServerServiceOptions) {
    this.connector = new ServerConnector({
      store: opts.store,
      vault: opts.vault,
      ...(opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
    });
  }

  list(page: z.input<typeof PageQuery> = {}): Promise<Page<Server>> {
    return this.opts.store.servers.list(parseOrThrow(PageQuery, page, "page"));
  }

  get(serverId: string): Promise<Server> {
    return this.opts.store.servers.get(serverId);
  }

  /** Stores a new server in `pending` with its key sealed in the vault; `check` makes it usable. */
  async register(input: ServerRegisterInput): Promise<Server> {
    const data = parseOrThrow(ServerRegisterInput, input, "server");
    checkPrivateKey(data.privateKey, "privateKey");
    const server = await this.opts.store.servers.create({
      handle: data.handle,
      host: data.host,
      sshPort: data.sshPort,
      sshUser: data.sshUser,
      capacity: data.capacity ?? null,
    });
    const stored = await this.opts.store.servers.setSshKey(
      server.id,
      sealCredentials(this.opts.vault, { privateKey: data.privateKey, hostKey: data.hostKey ?? null }),
    );
    this.opts.logger.info(
      { serverId: server.id, handle: server.handle, host: server.host },
      "server registered",
    );
    return stored;
  }

  /**
   * Connects over SSH and checks the server (one check per server at a time: a second caller gets
   * the running one). Moves it `checking` -> `ready`, or `error` with every problem found (or why
   * SSH failed, e.g. a changed host key). Stores the capacity it measured, even on `error`; a check
   * that could not measure it leaves the stored capacity as it was.
   */
  check(serverId: string): Promise<ServerCheck> {
    const running = this.inFlight.get(serverId);
    if (running) return running;
    const started = this.runCheck(serverId).finally(() => this.inFlight.delete(serverId));
    this.inFlight.set(serverId, started);
    return started;
  }

  /**
   * Marks a server `removed` and forgets its key. Refuses (`conflict` `server_in_use`) while ports
   * are allocated on it, unless `force`, which releases them. The `local` record is never removed.
   */
  async remove(serverId: string, options: { force?: boolean } = {}): Promise<Server> {
    const server = await this.opts.store.servers.get(serverId);
    if (server.handle === LOCAL_SERVER) {
      throw new AppError(
        "invalid",
        "server_reserved",
        `"${LOCAL_SERVER}" is this machine and cannot be removed`,
        {
          details: [{ path: "id", message: "the local driver's own record" }],
        },
      );
    }
    if (server.status === "removed") return server;
    const allocated = await this.opts.store.ports.list({ serverId, limit: 1, offset: 0 });
    if (allocated.total > 0 && !options.force) {
      throw new AppError(
        "conflict",
        "server_in_use",
        `server ${server.handle} has ${allocated.total} allocated port(s); tear those projects down or force`,
        { details: [{ path: "force", message: `${allocated.total} port(s) allocated` }] },
      );
    }
    for (;;) {
      const page = await this.opts.store.ports.list({ serverId, limit: PAGE_SIZE, offset: 0 });
      if (page.items.length === 0) break;
      for (const port of page.items) await this.opts.store.ports.release(port.id);
    }
    await this.opts.store.servers.setSshKey(serverId, null);
    const removed = await this.opts.store.servers.setStatus(serverId, "removed");
    this.opts.logger.info({ serverId, handle: server.handle, isForced: !!options.force }, "server removed");
    return removed;
  }

  /**
   * The periodic re-check of every `ready` and `error` server, for the scheduler: a leader job, so
   * one engine process at a time connects to the servers.
   */
  healthCheckJob(intervalMs: number): Job {
    const interval = parseOrThrow(z.number().int().min(1000), intervalMs, "health check interval");
    return {
      name: "servers.health-check",
      intervalMs: interval,
      scope: "leader",
      run: (signal) => this.checkServers(signal),
    };
  }

  /** One round of re-checks of every `ready` and `error` server; an abort ends it between servers. */
  checkServers(signal?: AbortSignal): Promise<void> {
    this.round ??= this.checkAll(signal).finally(() => {
      this.round = null;
    });
    return this.round;
  }

  /** Waits (with a deadline) for a running round and running checks to end. */
  async stop(): Promise<void> {
    const pending = [this.round, ...this.inFlight.values()].filter(Boolean);
    if (pending.length === 0) return;
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(pending),
      new Promise((resolve) => {
        deadline = setTimeout(resolve, STOP_DEADLINE_MS);
      }),
    ]);
    clearTimeout(deadline);
  }

  private async checkAll(signal?: AbortSignal): Promise<void> {
    const due: Server[] = [];
    for (let offset = 0; ; offset += PAGE_SIZE) {
      const page = await this.opts.store.servers
        .list({ limit: PAGE_SIZE, offset })
        .catch((error: unknown) => {
          this.opts.logger.warn({ err: error }, "server health check: cannot list servers");
          return null;
        });
      if (!page) return;
      // The `local` record is this machine, reached without SSH: nothing to check.
      due.push(
        ...page.items.filter(
          (s) => (s.status === "ready" || s.status === "error") && s.handle !== LOCAL_SERVER,
        ),
      );
      if (offset + PAGE_SIZE >= page.total) break;
    }
    for (const server of due) {
      if (signal?.aborted) return;
      await this.check(server.id).catch((error: unknown) => {
        this.opts.logger.warn({ err: error, serverId: server.id }, "server health check failed to run");
      });
    }
  }

  private async runCheck(serverId: string): Promise<ServerCheck> {
    let server = await this.opts.store.servers.get(serverId);
    if (server.status === "removed") {
      throw new AppError("conflict", "server_removed", `server ${server.handle} was removed`, {
        details: [{ path: "id", message: "removed servers are not checked" }],
      });
    }
    const before = server.status;
    // Only a first check shows `checking`; a re-check keeps `ready` (or `error`) until its outcome.
    if (server.status === "pending") server = await this.opts.store.servers.setStatus(serverId, "checking");
    let facts: ServerFacts | null = null;
    let problems: string[];
    try {
      const connection = await this.connector.connect(server);
      try {
        const probed = await probeServer(
          connection,
          {
            dockerHost: this.opts.dockerHostFor?.(server) ?? null,
            timeoutMs: this.opts.commandTimeoutMs ?? CHECK_COMMAND_TIMEOUT_MS,
          },
          {
            minFreeDiskMb: this.opts.minFreeDiskMb ?? MIN_FREE_DISK_MB,
            minAvailableMemoryMb: this.opts.minAvailableMemoryMb ?? MIN_AVAILABLE_MEMORY_MB,
          },
        );
        facts = probed.facts;
        problems = probed.problems;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (!(error instanceof AppError) || error.kind === "internal") throw await this.fail(serverId, error);
      problems = [`ssh: ${error.message}`];
    }
    const capacity = facts ? capacityOf(facts) : null;
    if (capacity) server = await this.opts.store.servers.setCapacity(serverId, capacity);
    const to = problems.length === 0 ? "ready" : "error";
    server = await this.opts.store.servers.setStatus(
      serverId,
      to,
      to === "error" ? problems.join("; ") : null,
    );
    const log = { serverId, handle: server.handle, from: before, status: to, reason: server.lastError };
    if (to === "ready") this.opts.logger.info(log, "server checked");
    else this.opts.logger.warn(log, "server check found problems");
    return { server, facts };
  }

  /** Leaves a server whose check crashed in `error` (so it is not stuck in `checking`), then rethrows. */
  private async fail(serverId: string, error: unknown): Promise<unknown> {
    await this.opts.store.servers
      .setStatus(serverId, "error", "check failed unexpectedly; see the orchestrator log")
      .catch(() => undefined);
    return error;
  }
}
