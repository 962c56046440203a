import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../test/support/ports.js";
import { startSshd, type TestSshd } from "../../../test/support/sshd.js";
import { openTestStore } from "../../../test/support/store.js";
import { InProcessBus } from "../../bus/index.js";
import { AppError, type Principal } from "../../contracts/index.js";
import { createLogger, SecretRedactor } from "../../observability/index.js";
import { Scheduler } from "../../scheduler/index.js";
import { Vault } from "../../secrets/index.js";
import type { Store } from "../../store/index.js";
import { createToolRegistry, type ToolContext } from "../../tools/index.js";
import { ServerService } from "./index.js";

/**
 * The server service against a real sshd on this machine. The sshd's sessions get a PATH holding
 * only the basic tools (no docker, no docker-compose), so a check must find and name what is
 * missing; a check that finds Docker ready is in the ssh-compose suite, which runs an engine.
 */
const admin: Principal = { kind: "admin", tokenId: "tok-admin" };
const registry = createToolRegistry();
const logLines: string[] = [];
const binDir = mkdtempSync(join(tmpdir(), "orch-nodocker-bin-"));
let sshd: TestSshd;
let store: Store;
let vault: Vault;
let service: ServerService;

async function failure(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

function context(principal: Principal = admin, withServers = true): ToolContext {
  return {
    principal,
    store,
    bus: new InProcessBus(),
    logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
    ...(withServers ? { servers: service } : {}),
  };
}

beforeAll(async () => {
  for (const tool of ["cat", "df", "nproc", "env", "timeout", "sh"]) {
    const found = ["/usr/bin", "/bin"].map((dir) => join(dir, tool)).find((path) => existsSync(path));
    if (!found) throw new Error(`${tool} not found`);
    symlinkSync(found, join(binDir, tool));
  }
  sshd = await startSshd({ sessionPath: binDir });
  store = await openTestStore();
  vault = new Vault(randomBytes(32));
  service = new ServerService({
    store,
    vault,
    logger: createLogger({
      level: "debug",
      redactor: new SecretRedactor(),
      destination: { write: (line: string) => logLines.push(line) },
    }),
  });
});

afterAll(async () => {
  await service?.stop();
  await sshd?.stop();
  await store?.close();
  rmSync(binDir, { recursive: true, force: true });
});

describe("ServerService", () => {
  it("validates registration by field and never echoes a bad key", async () => {
    const bad = await failure(
      service.register({ handle: "Not A Handle", host: "", privateKey: "my-password-123", sshPort: 70_000 }),
    );
    expect(bad.details.map((d) => d.path).sort()).toEqual(["handle", "host", "sshPort"]);
    const badKey = await failure(
      service.register({ handle: "box", host: sshd.host, privateKey: "my-password-123" }),
    );
    expect(badKey.details[0]?.path).toBe("privateKey");
    expect(JSON.stringify(badKey.toBody())).not.toContain("my-password-123");
    expect(await store.servers.findByHandle("box")).toBeNull();
    const reserved = await failure(
      service.register({ handle: "local", host: sshd.host, privateKey: sshd.privateKey }),
    );
    expect(reserved.details).toEqual([{ path: "handle", message: expect.stringContaining("this machine") }]);
  });

  it("stores the key sealed, checks over SSH and names every missing piece", async () => {
    const server = await service.register({
      handle: "no-docker",
      host: sshd.host,
      sshPort: sshd.port,
      sshUser: sshd.user,
      privateKey: sshd.privateKey,
    });
    expect(server).toMatchObject({ status: "pending", hasSshKey: true, capacity: null });
    const ciphertext = (await store.servers.getSshKeyCiphertext(server.id)) ?? "";
    expect(ciphertext).not.toContain("PRIVATE KEY");

    const { server: checked, facts } = await service.check(server.id);
    expect(checked.status).toBe("error");
    expect(checked.lastError).toMatch(/docker: docker is not installed/);
    expect(checked.lastError).toMatch(/compose: neither `docker compose` \(v2\) nor `docker-compose` \(v1\)/);
    expect(checked.lastHealthCheckAt).not.toBeNull();
    expect(facts).toMatchObject({ dockerVersion: null, compose: null });
    expect(facts?.os).toMatch(/Linux/);
    expect(facts?.cpuCores).toBeGreaterThan(0);
    expect(facts?.memoryMb).toBeGreaterThan(0);
    expect(facts?.diskFreeMb).toBeGreaterThan(0);
    expect((await store.servers.get(server.id)).capacity?.cpuCores).toBeGreaterThan(0);
    // Trust on first use: the host key seen is now pinned.
    expect(await service.connector.pinnedHostKey(server.id)).toBe(sshd.hostKeyFingerprint);
    expect(logLines.join("\n")).not.toContain(sshd.privateKey.split("\n")[1] as string);
  });

  it("refuses a server whose host key changed, and records why", async () => {
    const first = await startSshd({ clientKey: { privateKey: sshd.privateKey, publicKey: sshd.publicKey } });
    const server = await service.register({
      handle: "rebuilt",
      host: first.host,
      sshPort: first.port,
      privateKey: sshd.privateKey,
    });
    await service.check(server.id);
    expect(await service.connector.pinnedHostKey(server.id)).toBe(first.hostKeyFingerprint);
    await first.stop();
    // The "same server", reinstalled: same address and client key, a new host key.
    const second = await startSshd({
      port: first.port,
      clientKey: { privateKey: sshd.privateKey, publicKey: sshd.publicKey },
    });
    try {
      const { server: checked, facts } = await service.check(server.id);
      expect(facts).toBeNull();
      expect(checked.status).toBe("error");
      expect(checked.lastError).toContain("host key");
      expect(checked.lastError).toContain(second.hostKeyFingerprint);
      const error = await failure(service.connector.connect(checked));
      expect(error).toMatchObject({ kind: "conflict", code: "host_key_changed" });
    } finally {
      await second.stop();
    }
  });

  it("says a host cannot be reached", async () => {
    const server = await service.register({
      handle: "nowhere",
      host: "127.0.0.1",
      sshPort: await freePort(),
      privateKey: sshd.privateKey,
    });
    const { server: checked } = await service.check(server.id);
    expect(checked.status).toBe("error");
    expect(checked.lastError).toMatch(/^ssh: cannot reach root@127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it("refuses to remove a server with allocated ports unless forced, which frees them", async () => {
    const server = await service.register({ handle: "busy", host: sshd.host, privateKey: sshd.privateKey });
    const project = await store.projects.create({ name: "Uses busy" });
    await store.ports.allocate({ serverId: server.id, port: 8080, projectId: project.id });
    const refused = await failure(service.remove(server.id));
    expect(refused).toMatchObject({ kind: "conflict", code: "server_in_use" });
    const removed = await service.remove(server.id, { force: true });
    expect(removed).toMatchObject({ status: "removed", hasSshKey: false });
    expect((await store.ports.list({ serverId: server.id, limit: 10, offset: 0 })).total).toBe(0);
    expect(await service.remove(server.id)).toMatchObject({ status: "removed" });
    expect(await failure(service.check(server.id))).toMatchObject({ code: "server_removed" });
  });

  it("keeps a checked server's status while it is checked again (no flicker through checking)", async () => {
    const { id } = (await store.servers.findByHandle("no-docker")) ?? { id: "" };
    const seen = new Set<string>();
    let checking = true;
    const watch = (async () => {
      while (checking) {
        seen.add((await store.servers.get(id)).status);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const { server } = await service.check(id);
    checking = false;
    await watch;
    expect(server.status).toBe("error");
    expect([...seen]).toEqual(["error"]);
  });

  it("re-checks ready and error servers periodically until stopped, never the local record", async () => {
    const { id } = (await store.servers.findByHandle("no-docker")) ?? { id: "" };
    const before = (await store.servers.get(id)).lastHealthCheckAt ?? "";
    // This machine's record (the local driver's target) has no SSH key: a check would mark it error.
    const local = await store.servers.create({ handle: "local", host: "127.0.0.1" });
    await store.servers.setStatus(local.id, "checking");
    const localReady = await store.servers.setStatus(local.id, "ready");
    const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
    const scheduler = new Scheduler({ holder: "server-checks-test", leases: store.jobLeases, logger });
    scheduler.add(service.healthCheckJob(1000));
    expect(() => scheduler.add(service.healthCheckJob(1000))).toThrow(/already/);
    expect(() => service.healthCheckJob(10)).toThrow(/interval/);
    scheduler.start();
    await expect
      .poll(async () => (await store.servers.get(id)).lastHealthCheckAt ?? "", {
        timeout: 20_000,
        interval: 200,
      })
      .not.toBe(before);
    await scheduler.stop(30_000);
    await service.stop();
    expect((await store.servers.get(id)).status).toBe("error");
    expect(await store.servers.get(local.id)).toMatchObject({
      status: "ready",
      lastHealthCheckAt: localReady.lastHealthCheckAt,
    });
    // Nor can it be removed: the local driver's deploys and teardowns need it.
    const kept = await failure(service.remove(local.id, { force: true }));
    expect(kept).toMatchObject({ kind: "invalid", code: "server_reserved" });
    expect((await store.servers.get(local.id)).status).toBe("ready");
  });

  it("is reachable as tools: admins register and remove, agents may not, and no service means unavailable", async () => {
    const result = (await registry.invoke(
      "server.register",
      { handle: "via-tool", host: sshd.host, sshPort: sshd.port, privateKey: sshd.privateKey },
      context(),
    )) as { server: { status: string; lastError: string } };
    expect(result.server.status).toBe("error");
    expect(result.server.lastError).toContain("docker");
    const listed = (await registry.invoke("server.list", {}, context())) as { items: { handle: string }[] };
    expect(listed.items.map((s) => s.handle)).toContain("via-tool");
    const agent: Principal = {
      kind: "worker",
      tokenId: "tok-po",
      projectId: (await store.projects.create({ name: "Agent" })).id,
      role: "po",
      workerId: null,
      groups: ["servers"],
    };
    const forbidden = await failure(
      registry.invoke(
        "server.register",
        { handle: "x-agent", host: "h", privateKey: sshd.privateKey },
        context(agent),
      ),
    );
    expect(forbidden.kind).toBe("forbidden");
    const unavailable = await failure(registry.invoke("server.list", {}, context(admin, false)));
    expect(unavailable.code).toBe("servers_unavailable");
  });
});
