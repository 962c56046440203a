/**
 * Deploy runs with the `ssh-compose` driver, end to end: a private dockerd, an sshd on 127.0.0.1
 * (the "server", registered and checked through the `server.*` tools), Debian's docker-compose 1.29,
 * and the `web-service` template pushed to the project's repository. `deploy.start` builds the
 * commit on the server and passes the health gate; a second commit is a new release; a commit whose
 * service cannot start fails its gate and the previous release answers again; `deploy.rollback`
 * returns to the previous commit; what the first release stored in DATA_DIR (the project's volume)
 * is there for the next; `project.teardown` removes the container and frees the port.
 * Then the built binary as a user runs it: `DEPLOY_DRIVER=ssh-compose`, a server registered with
 * the CLI (key on stdin), `up --demo` (scripted agents) deploying a green commit to that server.
 *
 * The first release is the one place of the ssh-compose suites where the real `web-service`
 * template (npm, tsc, Fastify) is built on a server, so the template stays proven deployable there.
 * Later commits make the project the light one (test/support/light-project.ts: no dependencies, a
 * build that copies files) and `up --demo` plays the light playbook, so those builds cost the
 * driver's work only.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server as NetServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run, RunEvent, Server } from "../../src/contracts/index.js";
import { PROJECT_LABEL } from "../../src/deploy/index.js";
import { renderTemplate } from "../../src/templates/index.js";
import { type RunningCli, runCli, START_DEADLINE_MS, startCli, waitForHealth } from "../support/cli.js";
import { type DeployTarget, startDeployTarget } from "../support/deploy-target.js";
import { execIn, type TestDockerd } from "../support/dockerd.js";
import { type EngineHarness, startEngineHarness } from "../support/engine-harness.js";
import { gitEnv } from "../support/git.js";
import { lightNotesServiceFiles, lightPlaybook } from "../support/light-project.js";
import { freePort, workerPortRange } from "../support/ports.js";
import { startSshd, type TestSshd } from "../support/sshd.js";

const run = promisify(execFile);
const SETUP_TIMEOUT_MS = 15 * 60_000;
const DEPLOY_TIMEOUT_MS = 5 * 60_000;
/** A whole brief through `up --demo`: an engineering run, then a release built on the server. */
const CLI_DEPLOY_TIMEOUT_MS = 8 * 60_000;
const SLUG = "ssh-web";

let target: DeployTarget;
let dockerd: TestDockerd;
let sshd: TestSshd;
let h: EngineHarness;
let scratch = "";
let workdir = "";
let projectId = "";

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "deploy-ssh-"));
  target = await startDeployTarget();
  ({ dockerd, sshd } = target);
  h = await startEngineHarness(target.harnessOptions(join(scratch, "srv")));
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await h?.close();
  await target?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 120_000);

/** Commits the work tree and pushes it to the project's repository over git HTTP. */
async function pushCommit(message: string): Promise<string> {
  const env = gitEnv(h.adminToken);
  await run("git", ["add", "-A"], { cwd: workdir, env });
  await run("git", ["commit", "--quiet", "-m", message], { cwd: workdir, env });
  await run("git", ["push", "--quiet", "origin", "HEAD:main"], { cwd: workdir, env });
  return (await run("git", ["rev-parse", "HEAD"], { cwd: workdir })).stdout.trim();
}

async function replaceIn(file: string, from: string, to: string): Promise<void> {
  const text = await readFile(join(workdir, file), "utf8");
  if (!text.includes(from)) throw new Error(`${from} not in ${file}`);
  await writeFile(join(workdir, file), text.replace(from, to));
}

async function deployAndWait(tool: string, input: Record<string, unknown> = {}): Promise<Run> {
  const queued = await h.tool<Run>(tool, { projectId, ...input });
  return h.waitForEnd(queued.id, DEPLOY_TIMEOUT_MS);
}

async function hello(url: string): Promise<string> {
  const res = await fetch(`${url}/api/hello`, { signal: AbortSignal.timeout(5_000) });
  return ((await res.json()) as { message: string }).message;
}

async function containersOfProject(): Promise<{ release: string; state: string }[]> {
  const found = await dockerd.docker.listContainers({
    all: true,
    filters: { label: [`${PROJECT_LABEL}=${projectId}`] },
  });
  return found.map((c) => ({ release: c.Labels["orchestrator.release"] ?? "", state: c.State }));
}

/** Listens on 0.0.0.0:`port`, as another program on the server would; rejects when it is taken. */
function listenOn(server: NetServer, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "0.0.0.0", () => resolve());
  });
}

/** Calls the REST API with the admin token. */
function rest(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${h.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${h.adminToken}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function eventsOf(runId: string): Promise<RunEvent[]> {
  return h.store.runEvents.list(runId, { limit: 5000 });
}

describe("deploy runs with the ssh-compose driver over a real sshd and dockerd", () => {
  let url = "";
  let firstCommit = "";
  let secondCommit = "";

  it("fails a deploy while no server is ready, saying so", async () => {
    const p = await h.store.projects.create({ name: "SSH Web", slug: SLUG });
    projectId = p.id;
    const repo = await h.forge.createRepository({ projectId, slug: SLUG });
    workdir = join(scratch, "work");
    await renderTemplate({
      template: "web-service",
      into: workdir,
      variables: { projectName: "SSH Web", slug: SLUG, description: "Greets" },
    });
    await run("git", ["init", "--quiet", "--initial-branch=main"], { cwd: workdir });
    await run("git", ["remote", "add", "origin", `${h.url}/git/${repo.name}.git`], { cwd: workdir });
    firstCommit = await pushCommit("web-service template");

    const done = await deployAndWait("deploy.start", { commit: firstCommit });
    expect(done.status).toBe("failed");
    expect(done.error?.code).toBe("no_server");
    expect(await h.store.deployments.list({ projectId, limit: 5, offset: 0 })).toMatchObject({ total: 0 });
  });

  it("registers 127.0.0.1 through the server tools and checks it ready", async () => {
    const registered = await h.tool<{ server: Server; facts: { dockerVersion: string } }>("server.register", {
      handle: "loopback",
      host: sshd.host,
      sshPort: sshd.port,
      sshUser: sshd.user,
      privateKey: sshd.privateKey,
    });
    // Registration checks the server at once; a later check says the same.
    expect(registered.server).toMatchObject({ status: "ready", lastError: null, hasSshKey: true });
    expect(registered.facts.dockerVersion).toMatch(/^20\.10\./);
    const checked = await h.tool<{ server: Server }>("server.check", { id: registered.server.id });
    expect(checked.server).toMatchObject({ status: "ready", lastError: null });
    expect(checked.server.capacity?.cpuCores).toBeGreaterThan(0);
    // The same over REST: a check, and a registration with bad fields named.
    const again = await rest("POST", `/api/servers/${registered.server.id}/check`);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { server: Server }).server.status).toBe("ready");
    const bad = await rest("POST", "/api/servers", { handle: "local", host: "", privateKey: "k" });
    expect(bad.status).toBe(400);
    const { error } = (await bad.json()) as { error: { details: { path: string }[] } };
    expect(error.details.map((d) => d.path).sort()).toEqual(["body.handle", "body.host"]);
  }, 120_000);

  it(
    "deploys the commit to the server behind a passing health gate",
    async () => {
      // Another program on the server holds the first port of the range: allocation passes it by.
      const [first] = h.devopsDeps.portRange;
      const taken = createServer();
      await listenOn(taken, first);
      const done = await deployAndWait("deploy.start", { commit: firstCommit }).finally(
        () => new Promise((resolve) => taken.close(resolve)),
      );
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
      const result = done.result as { url: string; commit: string; deploymentId: string };
      expect(result.commit).toBe(firstCommit);
      url = result.url;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(Number(new URL(url).port)).toBeGreaterThan(first);
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok", env: "test" });
      expect(await hello(url)).toBe("Hello, world!");
      // Something the person stores, in the project's data volume.
      const stored = await fetch(`${url}/api/notes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "kept across redeploys" }),
      });
      expect(stored.status, await stored.clone().text()).toBe(201);
      const deployment = await h.store.deployments.get(result.deploymentId);
      expect(deployment).toMatchObject({ status: "healthy", commitSha: firstCommit, url });
      expect((await h.store.servers.get(deployment.serverId ?? "")).handle).toBe("loopback");
      expect(await containersOfProject()).toEqual([{ release: deployment.release, state: "running" }]);
      // The template's release holds its runtime dependencies, not its devDependencies.
      const [container] = await dockerd.docker.listContainers({
        filters: { label: [`${PROJECT_LABEL}=${projectId}`] },
      });
      const modules = await execIn(dockerd.docker, container?.Id ?? "", ["ls", "-1", "/app/node_modules"]);
      expect(modules).toMatch(/^fastify$/m);
      expect(modules).not.toMatch(/^typescript$/m);
      const succeeded = (await eventsOf(done.id)).find((e) => e.type === "deploy.succeeded");
      expect(succeeded?.data).toMatchObject({ url, commit: firstCommit });
      expect((await h.store.projects.get(projectId)).status).toBe("live");
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    "deploys a second commit as a new release on the same port",
    async () => {
      // The light project from here on: a build without npm dependencies or tsc.
      for (const [file, text] of Object.entries(lightNotesServiceFiles())) {
        await mkdir(dirname(join(workdir, file)), { recursive: true });
        await writeFile(join(workdir, file), text);
      }
      await replaceIn("src/main.mjs", "Hello, ", "Howdy, ");
      secondCommit = await pushCommit("The light service, saying howdy");
      const done = await deployAndWait("deploy.start", { commit: secondCommit });
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
      expect((done.result as { url: string }).url).toBe(url);
      expect(await hello(url)).toBe("Howdy, world!");
      // The new release's container mounts the same volume: what the first one stored is there
      // (the light service keeps notes in DATA_DIR as the template does).
      const notes = (await (await fetch(`${url}/api/notes`)).json()) as { notes: { text: string }[] };
      expect(notes.notes.map((n) => n.text)).toEqual(["kept across redeploys"]);
      const deployments = (await h.store.deployments.list({ projectId, limit: 10, offset: 0 })).items;
      expect(deployments.map((d) => [d.commitSha, d.status])).toEqual([
        [secondCommit, "healthy"],
        [firstCommit, "superseded"],
      ]);
      const releases = await h.driver.releases(
        projectId,
        await h.store.servers.get(deployments[0]?.serverId ?? ""),
      );
      expect(releases.map((r) => r.commit)).toEqual([secondCommit, firstCommit]);
      expect((await containersOfProject()).map((c) => c.release)).toEqual([deployments[0]?.release]);
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    "fails a release whose service cannot start, and the previous release answers again",
    async () => {
      await writeFile(join(workdir, "src/main.mjs"), 'throw new Error("this release cannot start");\n');
      const broken = await pushCommit("Break the start");
      const done = await deployAndWait("deploy.start", { commit: broken });
      expect(done.status).toBe("failed");
      expect(done.error?.code).toBe("health_gate_failed");
      expect((done.result as { restoredPrevious: boolean }).restoredPrevious).toBe(true);
      expect(await hello(url)).toBe("Howdy, world!");
      const [attempt, current] = (await h.store.deployments.list({ projectId, limit: 2, offset: 0 })).items;
      expect(attempt).toMatchObject({ commitSha: broken, status: "failed" });
      expect(attempt?.logsExcerpt).toContain("this release cannot start");
      expect(current).toMatchObject({ commitSha: secondCommit, status: "healthy" });
      expect((await containersOfProject()).map((c) => c.release)).toEqual([current?.release]);
      const failed = (await eventsOf(done.id)).find((e) => e.type === "deploy.failed");
      expect(String(failed?.data.reason)).toContain("health gate");
      expect((await h.store.projects.get(projectId)).status).toBe("live");
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    "rolls back to the previous commit",
    async () => {
      const done = await deployAndWait("deploy.rollback");
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
      expect((done.result as { commit: string }).commit).toBe(firstCommit);
      expect(await hello(url)).toBe("Hello, world!");
      const all = (await h.store.deployments.list({ projectId, limit: 10, offset: 0 })).items;
      const [now] = all;
      expect(now).toMatchObject({ commitSha: firstCommit, status: "healthy" });
      // The first release, kept on the server, is started again: nothing is built.
      expect(now?.release).toBe(all.find((d) => d.status === "superseded")?.release);
      const statuses = (await h.store.deployments.list({ projectId, limit: 10, offset: 0 })).items.map(
        (d) => [d.commitSha, d.status],
      );
      expect(statuses).toContainEqual([secondCommit, "rolled_back"]);
      expect((await containersOfProject()).map((c) => c.release)).toEqual([now?.release]);
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    "fails a release that cannot start (its port was taken on the server while it was down), recording why",
    async () => {
      // The service stops (a crash, a person) and another program takes its port meanwhile.
      for (const c of await dockerd.docker.listContainers({
        filters: { label: [`${PROJECT_LABEL}=${projectId}`] },
      })) {
        await dockerd.docker.getContainer(c.Id).stop({ t: 1 });
      }
      const port = Number(new URL(url).port);
      const taken = createServer();
      await listenOn(taken, port);
      try {
        const done = await deployAndWait("deploy.start", { commit: secondCommit });
        expect(done.status).toBe("failed");
        expect(done.error?.code).toBe("deploy_start_failed");
        // Nothing was serving, so nothing is restored.
        expect((done.result as { restoredPrevious: boolean }).restoredPrevious).toBe(false);
        const [attempt] = (await h.store.deployments.list({ projectId, limit: 1, offset: 0 })).items;
        expect(attempt).toMatchObject({ commitSha: secondCommit, status: "failed" });
        expect(attempt?.logsExcerpt).toMatch(/already in use|already allocated/);
        expect((await containersOfProject()).filter((c) => c.state === "running")).toEqual([]);
        expect((await h.store.projects.get(projectId)).status).toBe("failed");
        const failed = (await eventsOf(done.id)).find((e) => e.type === "deploy.failed");
        expect(String(failed?.data.reason)).toContain("could not be started");
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
    },
    DEPLOY_TIMEOUT_MS,
  );

  it("tears down: the container is gone, the port is free, the releases and repository stay", async () => {
    const done = await deployAndWait("project.teardown", { data: "keep" });
    expect(done.status, JSON.stringify(done.error)).toBe("succeeded");
    await expect(fetch(`${url}/health`, { signal: AbortSignal.timeout(3_000) })).rejects.toThrow();
    expect(await containersOfProject()).toEqual([]);
    expect((await h.store.ports.list({ projectId, limit: 10, offset: 0 })).items).toEqual([]);
    expect((await h.store.projects.get(projectId)).status).toBe("stopped");
    expect(await h.forge.hasCommit({ name: SLUG }, firstCommit)).toBe(true);
  }, 120_000);

  it("keeps the server's private key out of logs, run events and tool answers", async () => {
    const keyLine = sshd.privateKey.split("\n")[1] as string;
    expect(keyLine.length).toBeGreaterThan(20);
    const listed = JSON.stringify(await h.tool("server.list", {}));
    expect(listed).toContain("loopback");
    expect(listed).not.toContain(keyLine);
    for (const line of h.logLines) expect(line).not.toContain(keyLine);
    const runs = (await h.store.runs.list({ projectId, kind: "deploy", limit: 50, offset: 0 })).items;
    expect(runs.length).toBeGreaterThanOrEqual(7);
    for (const r of runs) {
      expect(JSON.stringify(r)).not.toContain(keyLine);
      expect(JSON.stringify(await eventsOf(r.id))).not.toContain(keyLine);
    }
  });

  it("removes the server over REST once nothing holds a port there", async () => {
    const [server] = (await h.store.servers.list({ limit: 10, offset: 0 })).items.filter(
      (s) => s.handle === "loopback",
    );
    const removed = await rest("DELETE", `/api/servers/${server?.id}`);
    expect(removed.status).toBe(200);
    expect(await removed.json()).toMatchObject({ status: "removed", hasSshKey: false });
    expect(((await (await rest("GET", `/api/servers/${server?.id}`)).json()) as Server).status).toBe(
      "removed",
    );
  });
});

describe("the built binary with DEPLOY_DRIVER=ssh-compose", () => {
  const procs: RunningCli[] = [];
  let cliSshd: TestSshd | null = null;
  afterAll(async () => {
    for (const p of procs) await p.stop("SIGKILL");
    await cliSshd?.stop();
  }, 60_000);

  it("registers a server with the CLI, and `up --demo` deploys a green commit there", {
    timeout: CLI_DEPLOY_TIMEOUT_MS,
  }, async () => {
    // This "server" has no DOCKER_HOST setting in the orchestrator: its sessions reach the test
    // engine by themselves, as a real server's reach its own.
    cliSshd = await startSshd({ sessionEnv: { DOCKER_HOST: dockerd.socket } });
    const dataDir = join(scratch, "cli-data");
    const port = await freePort();
    // The scripted agents play the light playbook: a green commit of the light time service.
    const playbookFile = join(scratch, "playbook.json");
    await writeFile(playbookFile, JSON.stringify(lightPlaybook()));
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ORCHESTRATOR_DATA_DIR: dataDir,
      ORCHESTRATOR_PORT: String(port),
      DEPLOY_DRIVER: "ssh-compose",
      DEPLOY_BASE_IMAGE: target.baseImage,
      DEPLOY_REMOTE_ROOT: join(scratch, "cli-srv"),
      DEPLOY_BUILD_NETWORK: "host",
      SERVER_CHECK_INTERVAL: "1s",
      DEPLOY_PORT_RANGE: workerPortRange(20_000).join("-"),
      SCRIPTED_PLAYBOOK: playbookFile,
    };
    const first = startCli(["up"], env);
    procs.push(first);
    await waitForHealth(`http://127.0.0.1:${port}/health`, START_DEADLINE_MS, first);
    const registered = await runCli(
      ["server", "register", "--handle", "box", "--host", cliSshd.host, "--ssh-port", String(cliSshd.port)],
      env,
      cliSshd.privateKey,
    );
    expect(registered.json, registered.stdout + registered.stderr).toMatchObject({
      ok: true,
      data: { server: { status: "ready" } },
    });
    const serverId = (registered.json.data as { server: Server }).server.id;
    // The engine re-checks registered servers every SERVER_CHECK_INTERVAL.
    const checkedAt = (registered.json.data as { server: Server }).server.lastHealthCheckAt;
    await expect
      .poll(
        async () => {
          const listed = await runCli(["server", "list"], env);
          const found = (listed.json.data as { items: Server[] }).items.find((s) => s.id === serverId);
          return found?.lastHealthCheckAt !== checkedAt && found?.status === "ready";
        },
        // A check is several commands over SSH, each a process on a machine the other suites keep busy.
        { timeout: 60_000, interval: 500 },
      )
      .toBe(true);
    expect(await first.stop("SIGTERM")).toBe(0);

    // The re-check is proven above; the demo checks at the default interval, not on every tick of
    // its run (each check is several commands over SSH, Compose's among them).
    const demo = startCli(["up", "--demo"], { ...env, SERVER_CHECK_INTERVAL: "5m" });
    procs.push(demo);
    await waitForHealth(`http://127.0.0.1:${port}/health`, START_DEADLINE_MS, demo);
    await expect.poll(() => demo.output(), { timeout: 30_000 }).toContain("Open the web chat");
    // A brief, as the demo's chat would start it: the scripted agents build, the server runs it.
    const created = await runCli(["project", "create", "--name", "ssh demo"], env);
    const projectId = (created.json.data as { id: string }).id;
    const started = await runCli(
      ["engineering", "start", "--project-id", projectId, "--brief", "a web service that tells the time"],
      env,
    );
    expect(started.json, started.stdout + started.stderr).toMatchObject({ ok: true });
    type DeployView = { status: string; result: { url?: string } | null; error: unknown };
    let deploy: DeployView | null = null;
    await expect
      .poll(
        async () => {
          const status = await runCli(["deploy", "status", "--project-id", projectId], env);
          deploy = (status.json.data as { run: DeployView | null } | undefined)?.run ?? null;
          return ["succeeded", "failed", "blocked"].includes(deploy?.status ?? "");
        },
        // Each look is a CLI process: every 5 s leaves the machine to the build it waits for.
        { timeout: CLI_DEPLOY_TIMEOUT_MS - 60_000, interval: 5_000 },
      )
      .toBe(true);
    const ended = deploy as unknown as DeployView;
    expect(ended.status, JSON.stringify(ended.error)).toBe("succeeded");
    const url = ended.result?.url ?? "";
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const time = await fetch(`${url}/api/time`);
    expect(time.status).toBe(200);
    // It runs in a container of the server's engine, labelled with the project.
    const containers = await dockerd.docker.listContainers({
      filters: { label: [`${PROJECT_LABEL}=${projectId}`] },
    });
    expect(containers).toHaveLength(1);
    // Stopping the orchestrator does not stop what runs on servers.
    expect(await demo.stop("SIGTERM")).toBe(0);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    await dockerd.docker.getContainer(containers[0]?.Id ?? "").remove({ force: true });
  });
});
