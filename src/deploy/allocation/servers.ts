import {
  AppError,
  type ErrorDetail,
  Id,
  LOCAL_SERVER,
  parseOrThrow,
  type Server,
  TemplateResources,
} from "../../contracts/index.js";
import type { Store } from "../../store/index.js";
import { listAll } from "./list-all.js";

/** How full a ready server is: the projects holding ports on it, besides the one being placed. */
interface Load {
  server: Server;
  projects: number;
  hasProject: boolean;
}

/**
 * Picks the `ready` server a project is deployed to. Capacity rule (simple on purpose): every
 * project holding ports on a server is counted as needing the same `resources` as the one being
 * placed, so a server fits when (other projects + 1) x resources stays within its declared CPU,
 * memory and disk; a server that declares no capacity fits anything. A project that already holds
 * ports on a fitting server stays there (its releases live there); otherwise the least loaded
 * server wins, ties broken by handle. None fits: `unavailable` / `no_server` with each reason.
 * The `local` record (this machine, for the local driver) and removed servers are never picked.
 */
export async function pickServer(opts: {
  store: Pick<Store, "servers" | "ports">;
  resources: TemplateResources;
  projectId?: string;
}): Promise<Server> {
  const resources = parseOrThrow(TemplateResources, opts.resources, "resources");
  const projectId = opts.projectId === undefined ? undefined : parseOrThrow(Id, opts.projectId, "projectId");
  const servers = (await listAll((page) => opts.store.servers.list(page)))
    .filter((s) => s.handle !== LOCAL_SERVER && s.status !== "removed")
    .sort((a, b) => a.handle.localeCompare(b.handle));
  const ready = servers.filter((s) => s.status === "ready");
  if (ready.length === 0) {
    throw new AppError("unavailable", "no_server", "no server is ready to deploy to", {
      details: servers.map((s) => ({
        path: `servers.${s.handle}`,
        message: s.status === "error" ? "status error (its last check failed)" : `status ${s.status}`,
      })),
    });
  }
  const loads = await Promise.all(ready.map((server) => loadOf(opts.store, server, projectId)));
  const reasons: ErrorDetail[] = [];
  const fitting = loads.filter((load) => {
    const reason = shortfall(load, resources);
    if (reason !== null) reasons.push({ path: `servers.${load.server.handle}`, message: reason });
    return reason === null;
  });
  const home = fitting.find((load) => load.hasProject);
  if (home) return home.server;
  const best = fitting.sort(
    (a, b) => a.projects - b.projects || a.server.handle.localeCompare(b.server.handle),
  )[0];
  if (best) return best.server;
  throw new AppError(
    "unavailable",
    "no_server",
    `no ready server has room for ${resources.cpus} CPUs, ${resources.memoryMb} MB memory and ${resources.diskMb} MB disk`,
    { details: reasons },
  );
}

async function loadOf(store: Pick<Store, "ports">, server: Server, projectId?: string): Promise<Load> {
  const allocations = await listAll((page) => store.ports.list({ ...page, serverId: server.id }));
  const projects = new Set(allocations.map((a) => a.projectId));
  const hasProject = projectId !== undefined && projects.has(projectId);
  return { server, projects: projects.size - (hasProject ? 1 : 0), hasProject };
}

/** Why `resources` do not fit on a loaded server, or null when they do. */
function shortfall(load: Load, resources: TemplateResources): string | null {
  const capacity = load.server.capacity;
  if (capacity === null) return null;
  const count = load.projects + 1;
  const short: string[] = [];
  if (count * resources.cpus > capacity.cpuCores)
    short.push(`CPUs ${count * resources.cpus} > ${capacity.cpuCores}`);
  if (count * resources.memoryMb > capacity.memoryMb)
    short.push(`memory ${count * resources.memoryMb} MB > ${capacity.memoryMb} MB`);
  if (count * resources.diskMb > capacity.diskMb)
    short.push(`disk ${count * resources.diskMb} MB > ${capacity.diskMb} MB`);
  return short.length === 0 ? null : `${load.projects} other projects; needs ${short.join(", ")}`;
}
