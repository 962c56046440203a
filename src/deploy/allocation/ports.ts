import { createServer } from "node:net";
import { z } from "zod";
import { AppError, Id, type PortAllocation, parseOrThrow } from "../../contracts/index.js";
import type { Store } from "../../store/index.js";
import { listAll } from "./list-all.js";

/** Lost races tolerated per service before allocation gives up as `unavailable`. */
export const PORT_CONFLICT_ATTEMPTS = 64;

const AllocatePortsInput = z.object({
  serverId: Id,
  projectId: Id,
  services: z
    .array(z.string().trim().min(1).max(100))
    .min(1, "at least one service")
    .refine((services) => new Set(services).size === services.length, "services must be distinct"),
  range: z
    .tuple([z.number().int().min(1).max(65_535), z.number().int().min(1).max(65_535)])
    .refine(([min, max]) => min <= max, "the range's first port must not exceed its last"),
});

type Ports = Pick<Store, "ports">;

/**
 * Gives each service of a project a port on a server, atomically: the store's unique
 * (server, port) key lets exactly one of concurrent claims on a port win; a loser moves on to the
 * next free candidate, at most `PORT_CONFLICT_ATTEMPTS` times. A service that already holds a port
 * there keeps it (redeploys reuse their ports). `isFree` (the deploy driver's `isPortFree`) can
 * veto a port some other program on the machine or server holds.
 */
export async function allocatePorts(opts: {
  store: Ports;
  serverId: string;
  projectId: string;
  services: string[];
  range: readonly [number, number];
  isFree?: (port: number) => Promise<boolean>;
}): Promise<Record<string, number>> {
  const input = parseOrThrow(
    AllocatePortsInput,
    { serverId: opts.serverId, projectId: opts.projectId, services: opts.services, range: opts.range },
    "port allocation",
  );
  const held = await projectPorts(opts.store, input.projectId, input.serverId);
  const ports: Record<string, number> = {};
  for (const service of input.services) {
    const current = keeperOf(held, service);
    ports[service] = current
      ? current.port
      : await allocateOne(opts.store, { ...input, service, isFree: opts.isFree });
  }
  return ports;
}

/** Frees a project's ports (on one server when `serverId` is given) at teardown; returns how many. */
export function releasePorts(store: Ports, projectId: string, serverId?: string): Promise<number> {
  return store.ports.releaseForProject(projectId, serverId);
}

/**
 * True when nothing on this machine listens on `port` (a bind on 127.0.0.1 succeeds; Linux also
 * refuses it when a wildcard or IPv6 dual-stack listener holds the port). Anything but "in use" or
 * "not permitted" is a real failure and is thrown.
 */
export function isLocalPortFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE" || error.code === "EACCES") resolve(false);
      else
        reject(
          new AppError("unavailable", "port_probe_failed", `could not probe port ${port}`, { cause: error }),
        );
    });
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

async function projectPorts(store: Ports, projectId: string, serverId: string): Promise<PortAllocation[]> {
  return listAll((page) => store.ports.list({ ...page, projectId, serverId }));
}

/**
 * The allocation a service keeps when it holds more than one (two deploys of one project raced):
 * the oldest, ties broken by id, so every racer picks the same one.
 */
function keeperOf(held: PortAllocation[], service: string): PortAllocation | undefined {
  return held
    .filter((a) => a.service === service)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))[0];
}

async function takenPorts(store: Ports, serverId: string): Promise<Set<number>> {
  return new Set((await listAll((page) => store.ports.list({ ...page, serverId }))).map((a) => a.port));
}

async function allocateOne(
  store: Ports,
  opts: {
    serverId: string;
    projectId: string;
    service: string;
    range: [number, number];
    isFree?: ((port: number) => Promise<boolean>) | undefined;
  },
): Promise<number> {
  const [min, max] = opts.range;
  let taken = await takenPorts(store, opts.serverId);
  let conflicts = 0;
  for (let port = min; port <= max; port++) {
    if (taken.has(port)) continue;
    if (opts.isFree && !(await opts.isFree(port))) continue;
    let mine: PortAllocation;
    try {
      mine = await store.ports.allocate({
        serverId: opts.serverId,
        port,
        projectId: opts.projectId,
        service: opts.service,
      });
    } catch (error) {
      if (!(error instanceof AppError) || error.kind !== "conflict") throw error;
      conflicts++;
      if (conflicts >= PORT_CONFLICT_ATTEMPTS) {
        throw new AppError(
          "unavailable",
          "no_free_port",
          `no free port for ${opts.service}: too many lost races`,
          {
            details: [
              { path: "services", message: `${conflicts} ports taken by concurrent allocations; try again` },
            ],
            cause: error,
          },
        );
      }
      taken = await takenPorts(store, opts.serverId);
      continue;
    }
    return settle(store, opts, mine);
  }
  throw new AppError("unavailable", "no_free_port", `no free port for ${opts.service} in ${min}-${max}`, {
    details: [{ path: "range", message: "every port in the range is taken" }],
  });
}

/**
 * After a claim lands, makes sure the service ends with one port even if another deploy of the
 * same project claimed one at the same time: the keeper stays, this call's extra claim is released.
 */
async function settle(
  store: Ports,
  opts: { serverId: string; projectId: string; service: string },
  mine: PortAllocation,
): Promise<number> {
  const held = await projectPorts(store, opts.projectId, opts.serverId);
  const keeper = keeperOf(held, opts.service) ?? mine;
  if (keeper.id !== mine.id) await store.ports.release(mine.id);
  return keeper.port;
}
