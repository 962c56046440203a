import { randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { ProcessRole } from "../contracts/index.js";
import type { Logger } from "../observability/index.js";
import type { Job } from "../scheduler/index.js";
import type { Store } from "../store/index.js";

/**
 * This process's heartbeat in the store (`instances`): renewed every third of its ttl (`job`, run
 * by the scheduler), ended on a clean stop. Others read it to tell a live process from a dead or restarted one: the engine
 * fails calls to a workers node that stopped beating, and engines adopt the local releases of an
 * engine whose heartbeat expired.
 */
export class InstanceHeartbeat {
  /** New at every start: lets others see a restart even when the id stays (a workers node). */
  readonly incarnation = randomUUID();
  private beating: Promise<void> = Promise.resolve();
  private probeUrl: string | null = null;

  constructor(
    private readonly opts: {
      store: Store;
      /** The workers node id when the process has that role, else made per start. */
      id: string;
      roles: readonly ProcessRole[];
      ttlMs: number;
      logger: Logger;
    },
  ) {}

  get id(): string {
    return this.opts.id;
  }

  /** Writes the first heartbeat, so the process is known alive before it serves; `job` keeps it beating. */
  async start(): Promise<void> {
    await this.beat();
  }

  /** Renews the heartbeat for another ttl. */
  renew(): Promise<void> {
    this.beating = this.beat();
    return this.beating;
  }

  /** The renewal, for the scheduler: every process beats for itself, every third of its ttl. */
  job(): Job {
    return {
      name: "instance.heartbeat",
      intervalMs: Math.max(250, Math.floor(this.opts.ttlMs / 3)),
      scope: "every-process",
      run: () => this.renew(),
    };
  }

  /** Where this process's `/health` answers; sent with the next heartbeat. */
  setProbeUrl(url: string): Promise<void> {
    this.probeUrl = url;
    return this.beat();
  }

  private async beat(): Promise<void> {
    await this.opts.store.instances.beat({
      id: this.opts.id,
      roles: [...this.opts.roles],
      incarnation: this.incarnation,
      host: hostname(),
      pid: process.pid,
      ttlMs: this.opts.ttlMs,
      probeUrl: this.probeUrl,
    });
  }

  /** Removes the record (once the scheduler no longer renews it): others see at once that this process is gone. */
  async stop(): Promise<void> {
    await this.beating.catch(() => undefined);
    await this.opts.store.instances
      .end(this.opts.id, this.incarnation)
      .catch((error: unknown) =>
        this.opts.logger.warn({ err: error }, "could not end this process's heartbeat"),
      );
  }
}

/** A fresh id for a process without the workers role (engines and API servers change id per start). */
export function ephemeralInstanceId(roles: readonly ProcessRole[]): string {
  return `${roles.join("+")}-${randomUUID().slice(0, 8)}`;
}

/**
 * This data directory's node id, made once: the workers of a node are the sandboxes under its
 * data directory, so the id must outlive restarts (a hostname would not, in a container).
 */
export async function workersNodeId(dataDir: string): Promise<string> {
  const file = join(dataDir, "node-id");
  const existing = await readFile(file, "utf8").catch(() => "");
  if (existing.trim()) return existing.trim();
  await mkdir(dataDir, { recursive: true });
  const id = `node-${randomUUID().slice(0, 8)}`;
  await writeFile(file, `${id}\n`, { flag: "wx" }).catch(() => undefined);
  return (await readFile(file, "utf8")).trim();
}
