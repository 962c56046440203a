import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devopsDeps, devopsState } from "../../../test/support/devops-deps.js";
import { freePort } from "../../../test/support/ports.js";
import { openTestStore } from "../../../test/support/store.js";
import {
  allocatePorts,
  ServerConnector,
  ServerService,
  SshComposeDriver,
  sshDeployConnector,
} from "../../deploy/index.js";
import { createLogger, SecretRedactor } from "../../observability/index.js";
import { Vault } from "../../secrets/index.js";
import type { Store } from "../../store/index.js";
import { parseManifest } from "../../templates/index.js";
import type { DevopsDeps } from "./deps.js";
import { teardown } from "./teardown.js";

/**
 * Where teardown looks for a project's release on the ssh-compose driver. The "server" is a TCP
 * listener that counts connections and hangs up: a teardown that goes to it shows up as a
 * connection (and fails, since no SSH answers), one that does not leaves the count at 0.
 */
let store: Store;
let dir = "";
let deps: DevopsDeps;
let servers: ServerService;
let privateKey = "";
let listener: TcpServer;
let sshPort = 0;
let connections = 0;

beforeAll(async () => {
  store = await openTestStore();
  dir = await mkdtemp(join(tmpdir(), "teardown-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", join(dir, "key")]);
  privateKey = await readFile(join(dir, "key"), "utf8");
  sshPort = await freePort();
  listener = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(sshPort, "127.0.0.1", resolve));
  const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
  const vault = new Vault(randomBytes(32));
  servers = new ServerService({ store, vault, logger });
  deps = devopsDeps({
    store,
    dir,
    driver: new SshComposeDriver({
      connector: sshDeployConnector(new ServerConnector({ store, vault })),
      logger,
    }),
    vault,
    logger,
  });
});
afterAll(async () => {
  await deps?.driver.close();
  await new Promise((resolve) => listener?.close(resolve));
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A project whose only deploy attempt failed on a registered server, holding one port there. */
async function failedOnServer(handle: string) {
  const project = await store.projects.create({ name: `Teardown ${handle}` });
  const server = await servers.register({ handle, host: "127.0.0.1", sshPort, privateKey });
  const run = await store.runs.create({ projectId: project.id, kind: "deploy", input: { action: "deploy" } });
  const attempt = await store.deployments.create({
    projectId: project.id,
    runId: run.id,
    serverId: server.id,
    commitSha: "b".repeat(40),
    release: "bbbbbbbbbbbb-20260101000000",
  });
  await store.deployments.finish(attempt.id, "failed", { logsExcerpt: "address already in use" });
  await store.projects.setStatus(project.id, "deploying");
  await store.projects.setStatus(project.id, "failed");
  await allocatePorts({
    store,
    serverId: server.id,
    projectId: project.id,
    services: ["PORT"],
    range: [30_000, 30_100],
  });
  return { project, server };
}

async function tearDown(projectId: string) {
  const run = await store.runs.create({ projectId, kind: "deploy", input: { action: "teardown" } });
  return teardown(
    deps,
    devopsState(run.id, {
      projectId,
      action: "teardown",
      commit: null,
      sourceRunId: null,
      resumes: null,
      data: "keep",
    }),
  );
}

describe("teardown on the ssh-compose driver", () => {
  it("goes to the server of the newest attempt, even a failed one, and claims nothing it could not do", async () => {
    // The server was never checked (`pending`): stopping what may run there does not need `ready`.
    const { project } = await failedOnServer("failed-box");
    const before = connections;
    await expect(tearDown(project.id)).rejects.toThrow();
    expect(connections).toBeGreaterThan(before);
    // It could not stop anything, so it freed nothing and did not call the project stopped.
    expect((await store.ports.list({ projectId: project.id, limit: 10, offset: 0 })).total).toBe(1);
    expect((await store.projects.get(project.id)).status).toBe("failed");
  });

  it("does not reach for a removed server, and stops the project", async () => {
    const { project, server } = await failedOnServer("gone-box");
    await servers.remove(server.id, { force: true });
    const before = connections;
    const update = await tearDown(project.id);
    expect(connections).toBe(before);
    expect(update.outcome).toMatchObject({ status: "succeeded", code: "torn_down" });
    expect((await store.ports.list({ projectId: project.id, limit: 10, offset: 0 })).total).toBe(0);
    expect((await store.projects.get(project.id)).status).toBe("stopped");
  });

  it("marks the deployment that served stopped, keeping its record", async () => {
    const { project, server } = await failedOnServer("served-box");
    const served = await store.deployments.create({
      projectId: project.id,
      serverId: server.id,
      commitSha: "c".repeat(40),
      release: "cccccccccccc-20260102000000",
    });
    await store.deployments.finish(served.id, "in_progress", {});
    await store.deployments.finish(served.id, "healthy", { url: "http://127.0.0.1:30001" });
    await servers.remove(server.id, { force: true });
    const update = await tearDown(project.id);
    expect(update.outcome).toMatchObject({ status: "succeeded", code: "torn_down" });
    expect(await store.deployments.get(served.id)).toMatchObject({
      status: "stopped",
      url: "http://127.0.0.1:30001",
    });
    const healthy = await store.deployments.list({
      projectId: project.id,
      status: "healthy",
      limit: 10,
      offset: 0,
    });
    expect(healthy.total).toBe(0);
    expect((await store.projects.get(project.id)).status).toBe("stopped");
  });

  it("builds only on a ready server, without contacting one that is not", async () => {
    const { project, server } = await failedOnServer("unchecked-box");
    const before = connections;
    const manifest = parseManifest(
      JSON.parse(await readFile("templates/builtin/web-service/orchestrator.json", "utf8")),
      "web-service",
    );
    await expect(
      deps.driver.build({
        projectId: project.id,
        slug: project.slug,
        commit: "c".repeat(40),
        source: { url: "http://127.0.0.1:1/unused.git", env: {} },
        manifest,
        server: await store.servers.get(server.id),
      }),
    ).rejects.toMatchObject({
      code: "server_not_ready",
      details: [{ path: "server.status", message: "pending" }],
    });
    expect(connections).toBe(before);
  });

  it("stops a project that never deployed without contacting any server", async () => {
    const project = await store.projects.create({ name: "Never deployed" });
    const before = connections;
    const update = await tearDown(project.id);
    expect(connections).toBe(before);
    expect(update.outcome).toMatchObject({
      status: "succeeded",
      message: expect.stringContaining("0 port(s)"),
    });
  });
});
