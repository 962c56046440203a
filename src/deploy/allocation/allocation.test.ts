import { createServer, type Server as NetServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../test/support/ports.js";
import { openTestStore } from "../../../test/support/store.js";
import { AppError, type ServerStatus } from "../../contracts/index.js";
import type { Store } from "../../store/index.js";
import { allocatePorts, isLocalPortFree, pickServer, releasePorts } from "./index.js";

let store: Store;

beforeAll(async () => {
  store = await openTestStore();
});
afterAll(async () => {
  await store?.close();
});

const tag = () => Math.random().toString(36).slice(2, 10);

async function project(): Promise<string> {
  return (await store.projects.create({ name: `Alloc ${tag()}` })).id;
}

async function server(
  into: Store,
  status: ServerStatus,
  capacity: { cpuCores: number; memoryMb: number; diskMb: number } | null = null,
  handle = `srv-${tag()}`,
) {
  const created = await into.servers.create({ handle, host: "127.0.0.1", capacity });
  if (status === "pending") return created;
  await into.servers.setStatus(created.id, "checking");
  return into.servers.setStatus(created.id, status, status === "error" ? "docker missing" : undefined);
}

async function failure(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

function listen(port: number): Promise<NetServer> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    // No host: the wildcard (IPv6 dual-stack where available), as a typical service binds.
    s.listen(port, () => resolve(s));
  });
}

describe("allocatePorts", () => {
  it("gives 20 projects allocating at once on one server 20 distinct ports in the range", async () => {
    const srv = await server(store, "ready");
    const projects = await Promise.all(Array.from({ length: 20 }, project));
    const results = await Promise.all(
      projects.map((projectId) =>
        allocatePorts({ store, serverId: srv.id, projectId, services: ["PORT"], range: [21_000, 21_999] }),
      ),
    );
    const ports = results.map((r) => r.PORT);
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) expect(port).toBeGreaterThanOrEqual(21_000);
    for (const port of ports) expect(port).toBeLessThan(21_020);
    const stored = await store.ports.list({ serverId: srv.id, limit: 200, offset: 0 });
    expect(stored.total).toBe(20);
    expect(new Set(stored.items.map((a) => a.projectId)).size).toBe(20);
  });

  it("reuses a project's ports on redeploy, adds new services beside them, and settles racing deploys on one port", async () => {
    const srv = await server(store, "ready");
    const projectId = await project();
    const range = [22_000, 22_100] as const;
    const first = await allocatePorts({ store, serverId: srv.id, projectId, services: ["PORT"], range });
    expect(await allocatePorts({ store, serverId: srv.id, projectId, services: ["PORT"], range })).toEqual(
      first,
    );
    const both = await allocatePorts({
      store,
      serverId: srv.id,
      projectId,
      services: ["PORT", "ADMIN_PORT"],
      range,
    });
    expect(both.PORT).toBe(first.PORT);
    expect(both.ADMIN_PORT).not.toBe(first.PORT);
    expect((await store.ports.list({ projectId, limit: 50, offset: 0 })).total).toBe(2);

    // Five deploys of one new project at once: one port for its service, the losers' claims released.
    const racer = await project();
    const raced = await Promise.all(
      Array.from({ length: 5 }, () =>
        allocatePorts({ store, serverId: srv.id, projectId: racer, services: ["PORT"], range }),
      ),
    );
    expect(new Set(raced.map((r) => r.PORT)).size).toBe(1);
    const held = await store.ports.list({ projectId: racer, limit: 50, offset: 0 });
    expect(held.items.map((a) => a.port)).toEqual([raced[0]?.PORT]);
  });

  it("releases a project's ports at teardown (per server or all) so others can take them", async () => {
    const [a, b] = [await server(store, "ready"), await server(store, "ready")];
    const projectId = await project();
    const range = [23_000, 23_000] as const;
    await allocatePorts({ store, serverId: a.id, projectId, services: ["PORT"], range });
    await allocatePorts({ store, serverId: b.id, projectId, services: ["PORT"], range });
    const other = await project();
    expect(
      (await failure(allocatePorts({ store, serverId: a.id, projectId: other, services: ["PORT"], range })))
        .code,
    ).toBe("no_free_port");
    expect(await releasePorts(store, projectId, a.id)).toBe(1);
    expect(
      (await store.ports.list({ projectId, limit: 50, offset: 0 })).items.map((p) => p.serverId),
    ).toEqual([b.id]);
    expect(
      await allocatePorts({ store, serverId: a.id, projectId: other, services: ["PORT"], range }),
    ).toEqual({
      PORT: 23_000,
    });
    expect(await releasePorts(store, projectId)).toBe(1);
    expect(await releasePorts(store, projectId)).toBe(0);
    expect((await store.ports.list({ projectId, limit: 50, offset: 0 })).total).toBe(0);
  });

  it("skips ports another program holds on this machine when given the local probe", async () => {
    const port = await freePort();
    const holder = await listen(port);
    try {
      expect(await isLocalPortFree(port)).toBe(false);
      const srv = await server(store, "ready");
      const projectId = await project();
      const error = await failure(
        allocatePorts({
          store,
          serverId: srv.id,
          projectId,
          services: ["PORT"],
          range: [port, port],
          isFree: isLocalPortFree,
        }),
      );
      expect(error).toMatchObject({ kind: "unavailable", code: "no_free_port" });
      expect(error.details[0]?.path).toBe("range");
      // An ssh server skips the local probe: the store alone decides.
      expect(
        await allocatePorts({ store, serverId: srv.id, projectId, services: ["PORT"], range: [port, port] }),
      ).toEqual({ PORT: port });
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    expect(await isLocalPortFree(port)).toBe(true);
  });

  it("consults the isFree callback port by port and runs out of a small range with unavailable", async () => {
    const srv = await server(store, "ready");
    const projectId = await project();
    const asked: number[] = [];
    const isFree = async (port: number) => {
      asked.push(port);
      return port !== 24_000;
    };
    expect(
      await allocatePorts({
        store,
        serverId: srv.id,
        projectId,
        services: ["WEB", "API"],
        range: [24_000, 24_002],
        isFree,
      }),
    ).toEqual({ WEB: 24_001, API: 24_002 });
    expect(asked).toEqual([24_000, 24_001, 24_000, 24_002]);
    const full = await failure(
      allocatePorts({
        store,
        serverId: srv.id,
        projectId,
        services: ["JOBS", "CRON"],
        range: [24_000, 24_002],
      }),
    );
    expect(full).toMatchObject({ kind: "unavailable", code: "no_free_port" });
    expect(full.message).toContain("CRON");
    // Without the callback 24000 was free for JOBS; what landed stays for the retry or the teardown.
    const held = await store.ports.list({ projectId, limit: 50, offset: 0 });
    expect(held.items.map((a) => [a.service, a.port]).sort()).toEqual([
      ["API", 24_002],
      ["JOBS", 24_000],
      ["WEB", 24_001],
    ]);
  });

  it("validates its input, naming the field", async () => {
    const srv = await server(store, "ready");
    const projectId = await project();
    const bad = async (over: Record<string, unknown>) =>
      (
        await failure(
          allocatePorts({
            store,
            serverId: srv.id,
            projectId,
            services: ["PORT"],
            range: [25_000, 25_010],
            ...over,
          }),
        )
      ).details.map((d) => d.path);
    expect(await bad({ range: [25_010, 25_000] })).toEqual(["range"]);
    expect(await bad({ range: [0, 10] })).toEqual(["range.0"]);
    expect(await bad({ services: [] })).toEqual(["services"]);
    expect(await bad({ services: ["PORT", "PORT"] })).toEqual(["services"]);
    expect(await bad({ serverId: "local" })).toEqual(["serverId"]);
  });
});

describe("pickServer", () => {
  const resources = { cpus: 1, memoryMb: 512, diskMb: 1024 };
  let own: Store;
  beforeAll(async () => {
    own = await openTestStore();
  });
  afterAll(async () => {
    await own?.close();
  });

  it("says why when no server is ready, then picks the ready one over pending and error", async () => {
    await server(own, "pending", null, "a-pending");
    await server(own, "error", null, "b-broken");
    const none = await failure(pickServer({ store: own, resources }));
    expect(none).toMatchObject({ kind: "unavailable", code: "no_server" });
    expect(none.details).toEqual([
      { path: "servers.a-pending", message: "status pending" },
      { path: "servers.b-broken", message: "status error (its last check failed)" },
    ]);
    const ready = await server(own, "ready", null, "c-ready");
    expect((await pickServer({ store: own, resources })).id).toBe(ready.id);
  });

  it("counts each project on a server as needing the same resources, keeps a project on its server", async () => {
    const room = { cpuCores: 2, memoryMb: 1024, diskMb: 4096 };
    const small = await server(own, "ready", room, "d-small");
    const big = await server(own, "ready", { cpuCores: 8, memoryMb: 8192, diskMb: 65_536 }, "e-big");
    // c-ready (no declared capacity, so anything fits) goes away for this case.
    const c = await own.servers.findByHandle("c-ready");
    if (c) await own.servers.setStatus(c.id, "removed");

    const p1 = (await own.projects.create({ name: "P1" })).id;
    const p2 = (await own.projects.create({ name: "P2" })).id;
    const p3 = (await own.projects.create({ name: "P3" })).id;
    // Empty servers: the tie goes to the handle.
    expect((await pickServer({ store: own, resources })).handle).toBe("d-small");
    await allocatePorts({
      store: own,
      serverId: small.id,
      projectId: p1,
      services: ["PORT"],
      range: [26_000, 26_100],
    });
    // d-small has one project: the least loaded (e-big) wins for a newcomer...
    expect((await pickServer({ store: own, resources, projectId: p2 })).handle).toBe("e-big");
    // ...while p1 stays where its ports are.
    expect((await pickServer({ store: own, resources, projectId: p1 })).handle).toBe("d-small");
    await allocatePorts({
      store: own,
      serverId: big.id,
      projectId: p2,
      services: ["PORT"],
      range: [26_000, 26_100],
    });
    await allocatePorts({
      store: own,
      serverId: big.id,
      projectId: p3,
      services: ["PORT"],
      range: [26_000, 26_100],
    });
    // Now d-small (1 project, room for 2) is the least loaded.
    expect((await pickServer({ store: own, resources })).handle).toBe("d-small");

    const huge = { cpus: 4, memoryMb: 4096, diskMb: 1024 };
    const error = await failure(pickServer({ store: own, resources: huge }));
    expect(error).toMatchObject({ kind: "unavailable", code: "no_server" });
    expect(error.message).toContain("4 CPUs");
    expect(error.details).toEqual([
      { path: "servers.d-small", message: "1 other projects; needs CPUs 8 > 2, memory 8192 MB > 1024 MB" },
      { path: "servers.e-big", message: "2 other projects; needs CPUs 12 > 8, memory 12288 MB > 8192 MB" },
    ]);
    const invalid = await failure(pickServer({ store: own, resources: { ...resources, cpus: -1 } }));
    expect(invalid.details[0]?.path).toBe("cpus");
  });
});
