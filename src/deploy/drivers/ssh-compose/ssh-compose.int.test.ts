import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployBaseImageTag, ensureDeployBaseImage } from "../../../../test/support/deploy-image.js";
import { execIn, startDockerd, type TestDockerd } from "../../../../test/support/dockerd.js";
import { lightNotesServiceFiles } from "../../../../test/support/light-project.js";
import { freePort } from "../../../../test/support/ports.js";
import { startSshd, type TestSshd } from "../../../../test/support/sshd.js";
import { openTestStore } from "../../../../test/support/store.js";
import { AppError, type Server, type TemplateManifest } from "../../../contracts/index.js";
import type { GitAccess } from "../../../git/index.js";
import { createLogger, SecretRedactor } from "../../../observability/index.js";
import { Vault } from "../../../secrets/index.js";
import type { Store } from "../../../store/index.js";
import { renderTemplate } from "../../../templates/index.js";
import { runDeployDriverConformance } from "../../driver.conformance.js";
import type { Release } from "../../driver.js";
import { ServerConnector, ServerService } from "../../servers/index.js";
import {
  composeProjectName,
  type DeployConnector,
  PROJECT_LABEL,
  RELEASE_LABEL,
  SshComposeDriver,
  sshDeployConnector,
} from "./index.js";

/**
 * The ssh-compose driver for real: a private dockerd, an sshd on 127.0.0.1 whose root sessions
 * reach that engine through `DOCKER_HOST`, Debian's docker-compose 1.29, and a project deployed
 * from a git repository: built on the "server" by the generated Dockerfile (install, build, prune,
 * exclude), run on a free port, answering /health through the published port. Then the
 * `DeployDriver` conformance suite runs on the same server and engine (one setup for the file).
 * The project is the rendered `web-service` template (its manifest, its files) made the light
 * project with notes (test/support/light-project.ts): a package without dependencies whose build
 * copies files, so every build here is the driver's work, not npm's and tsc's. The template itself
 * is built by ssh-compose in the first release of test/e2e/deploy-ssh-compose.test.ts, which also
 * checks its devDependencies are pruned from the release.
 */
const SETUP_TIMEOUT_MS = 15 * 60_000;
const DEPLOY_TIMEOUT_MS = 5 * 60_000;
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
};
/** A value that breaks naive quoting: quotes, a dollar, a backslash, a hash and a newline. */
const SECRET = `s3cr3t-${randomBytes(6).toString("hex")} it's "quoted" $HOME \\ # not a comment\nline two`;

const logLines: string[] = [];
let dockerd: TestDockerd;
let sshd: TestSshd;
let store: Store;
let service: ServerService;
let driver: SshComposeDriver;
let server: Server;
let manifest: TemplateManifest;
let scratch = "";
let remoteRoot = "";
/** The note the first release stored, which the second must read. */
let storedNoteId = "";
let workdir = "";
let source: GitAccess;
let connector: DeployConnector;
let baseImage = "";
const projectId = "5f1d7c4e-8a2b-4c3d-9e0f-123456789abc";

function git(...args: string[]): string {
  return execFileSync("git", args, { cwd: workdir, env: GIT_ENV, encoding: "utf8" }).trim();
}

function commitAll(message: string): string {
  git("add", "-A");
  git("commit", "--quiet", "-m", message);
  git("push", "--quiet", "origin", "HEAD:main");
  return git("rev-parse", "HEAD");
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3_000) });
  return { status: response.status, body: await response.text() };
}

/** Polls until the service answers `path` with 200 and returns the body. */
async function healthy(port: number, path = "/health"): Promise<string> {
  let body = "";
  await expect
    .poll(
      async () => {
        const answer = await get(port, path).catch(() => ({ status: 0, body: "" }));
        body = answer.body;
        return answer.status;
      },
      { timeout: 60_000, interval: 500 },
    )
    .toBe(200);
  return body;
}

async function labelsOfRunning(): Promise<Record<string, string>[]> {
  const containers = await dockerd.docker.listContainers({
    filters: { label: [`${PROJECT_LABEL}=${projectId}`] },
  });
  return containers.map((c) => c.Labels);
}

async function deploy(release: Release, port: number): Promise<void> {
  await driver.run({
    release,
    env: {
      PORT: String(port),
      APP_ENV: "production",
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      SECRET_TOKEN: SECRET,
      DATA_DIR: driver.dataDir(projectId),
    },
    port,
    manifest,
    slug: "weather-api",
    server,
  });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "orch-ssh-compose-"));
  remoteRoot = join(scratch, "srv");
  [dockerd, sshd] = await Promise.all([startDockerd(), startSshd()]);
  baseImage = await ensureDeployBaseImage(dockerd.docker);
  // The engine's data root outlives runs (it keeps the base image): images an interrupted earlier
  // run left for this fixed project id would count as this run's.
  const left = await dockerd.docker.listImages({ filters: { label: [`${PROJECT_LABEL}=${projectId}`] } });
  for (const image of left) await dockerd.docker.getImage(image.Id).remove({ force: true });
  store = await openTestStore();
  const vault = new Vault(randomBytes(32));
  // No secret is registered with the redactor: the lines must be clean by themselves.
  const logger = createLogger({
    level: "debug",
    redactor: new SecretRedactor(),
    destination: { write: (line: string) => logLines.push(line) },
  });
  service = new ServerService({ store, vault, logger, dockerHostFor: () => dockerd.socket });
  connector = sshDeployConnector(new ServerConnector({ store, vault }));
  driver = new SshComposeDriver({
    connector,
    logger,
    baseImage,
    remoteRoot,
    dockerHostFor: () => dockerd.socket,
    // The test engine runs with --iptables=false: its bridge has no way out, npm needs one.
    buildNetwork: "host",
  });

  workdir = join(scratch, "work");
  manifest = await renderTemplate({
    template: "web-service",
    into: workdir,
    variables: { projectName: "Weather API", slug: "weather-api", description: "Forecasts" },
  });
  for (const [file, text] of Object.entries(lightNotesServiceFiles())) {
    mkdirSync(dirname(join(workdir, file)), { recursive: true });
    writeFileSync(join(workdir, file), text);
  }
  const bare = join(scratch, "repo.git");
  execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", bare]);
  git("init", "--quiet", "--initial-branch=main");
  git("remote", "add", "origin", bare);
  source = { url: `file://${bare}`, env: {} };
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  if (driver && server) {
    await driver.stop(projectId, server).catch(() => undefined);
    await driver.prune(projectId, server, 0).catch(() => undefined);
  }
  await driver?.close();
  await service?.stop();
  await sshd?.stop();
  await dockerd?.stop();
  await store?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 120_000);

describe("SshComposeDriver over a real sshd and dockerd", () => {
  it("registers the server and checks it ready with Docker, Compose v1 and its capacity", async () => {
    const registered = await service.register({
      handle: "local-box",
      host: sshd.host,
      sshPort: sshd.port,
      sshUser: sshd.user,
      privateKey: sshd.privateKey,
    });
    const { server: checked, facts } = await service.check(registered.id);
    expect(checked.lastError).toBeNull();
    expect(checked.status).toBe("ready");
    expect(facts?.dockerVersion).toMatch(/^20\.10\./);
    expect(facts?.compose).toMatchObject({ argv: ["docker-compose"], flavor: "v1" });
    expect(facts?.cpuCores).toBeGreaterThan(0);
    expect(facts?.memoryMb).toBeGreaterThan(0);
    expect(facts?.diskMb).toBeGreaterThan(0);
    server = checked;
  });

  it(
    "builds a commit on the server and runs it on its port with a 0600 .env, secrets out of logs and image",
    async () => {
      const commit = commitAll("first");
      const release = await driver.build({
        projectId,
        slug: "weather-api",
        commit,
        source,
        manifest,
        server,
      });
      expect(release).toMatchObject({
        projectId,
        commit,
        location: join(remoteRoot, projectId, "releases", release.id),
      });
      expect(release.id.startsWith(commit.slice(0, 12))).toBe(true);
      expect(existsSync(join(release.location, "source.tar"))).toBe(false);
      expect(readFileSync(join(release.location, "Dockerfile"), "utf8")).toContain(
        `FROM ${await deployBaseImageTag()}`,
      );

      const port = await freePort();
      await deploy(release, port);
      expect(JSON.parse(await healthy(port))).toEqual({ status: "ok", env: "production" });
      expect(await driver.isRunning(projectId, server)).toBe(true);
      expect(readlinkSync(join(remoteRoot, projectId, "current"))).toBe(`releases/${release.id}`);

      const envFile = join(release.location, ".env");
      expect(statSync(envFile).mode & 0o777).toBe(0o600);
      // The container sees the value exactly, through Compose v1's env_file parser.
      const [info] = await dockerd.docker.listContainers({
        filters: { label: [`${PROJECT_LABEL}=${projectId}`] },
      });
      const container = dockerd.docker.getContainer(info?.Id ?? "");
      const inspected = await container.inspect();
      expect(inspected.Config.Env).toContain(`SECRET_TOKEN=${SECRET}`);
      expect(inspected.Config.Labels[RELEASE_LABEL]).toBe(release.id);
      expect(inspected.Name).toContain(composeProjectName(projectId));
      // The build context never held the env files: the image has none of them.
      expect(await execIn(dockerd.docker, info?.Id ?? "", ["ls", "-A", "/app"])).not.toMatch(
        /\.env|compose|Dockerfile/,
      );

      // Production files only (the build's copy of the tests in dist/test excluded), run
      // unprivileged, the project's data volume at DATA_DIR.
      expect((await execIn(dockerd.docker, info?.Id ?? "", ["id", "-u"])).trim()).toBe("1000");
      expect(inspected.Config.User).toBe("1000:1000");
      const app = await execIn(dockerd.docker, info?.Id ?? "", ["ls", "-A1", "/app"]);
      expect(app).toMatch(/^dist$/m);
      expect(app).not.toMatch(/^(src|test|tsconfig\.json)$/m);
      const dist = await execIn(dockerd.docker, info?.Id ?? "", ["ls", "-A1", "/app/dist"]);
      expect(dist).toMatch(/^src$/m);
      expect(dist).not.toMatch(/^(test|acceptance)$/m);
      expect(inspected.Mounts).toContainEqual(
        expect.objectContaining({
          Type: "volume",
          Name: `${composeProjectName(projectId)}-data`,
          Destination: "/data",
        }),
      );
      const stored = await fetch(`http://127.0.0.1:${port}/api/notes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "kept across releases" }),
      });
      expect(stored.status, await stored.clone().text()).toBe(201);
      storedNoteId = ((await stored.json()) as { id: string }).id;

      const lines = await driver.logs(projectId, server, 20);
      expect(lines.join("\n")).toContain(`light-service listening on port ${port}`);
      expect(logLines.length).toBeGreaterThan(0);
      for (const line of logLines) {
        expect(line).not.toContain("s3cr3t-");
        expect(line).not.toContain(sshd.privateKey.split("\n")[1] as string);
      }
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    "deploys a second commit as a new release replacing the first, and rolls back to the first",
    async () => {
      const [first] = await driver.releases(projectId, server);
      if (!first) throw new Error("no first release");
      const main = join(workdir, "src", "main.mjs");
      writeFileSync(main, readFileSync(main, "utf8").replace("Hello, ", "Hi, "));
      const commit = commitAll("second");
      const second = await driver.build({ projectId, slug: "weather-api", commit, source, manifest, server });
      expect(second.id).not.toBe(first.id);
      // Building an already built commit finds its release instead of building again.
      const again = await driver.build({
        projectId,
        slug: "weather-api",
        commit: first.commit,
        source,
        manifest,
        server,
      });
      expect(again.id).toBe(first.id);
      expect((await driver.releases(projectId, server)).map((r) => r.id)).toEqual([second.id, first.id]);

      const port = await freePort();
      await deploy(second, port);
      expect(JSON.parse(await healthy(port, "/api/hello"))).toMatchObject({ message: "Hi, world!" });
      // What the first release stored is there for the second (by its id: the engine's data root
      // outlives a run, so an interrupted earlier run may have left notes of its own).
      const read = JSON.parse(await healthy(port, `/api/notes/${storedNoteId}`));
      expect(read).toMatchObject({ id: storedNoteId, text: "kept across releases" });
      expect((await labelsOfRunning()).map((l) => l[RELEASE_LABEL])).toEqual([second.id]);

      await deploy(first, port);
      await expect
        .poll(async () => (await get(port, "/api/hello").catch(() => ({ body: "" }))).body, {
          timeout: 60_000,
        })
        .toContain("Hello, world!");
      expect((await labelsOfRunning()).map((l) => l[RELEASE_LABEL])).toEqual([first.id]);
      expect(readlinkSync(join(remoteRoot, projectId, "current"))).toBe(`releases/${first.id}`);
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    "refuses a commit whose build fails, with the output's tail, leaving the releases as they were",
    async () => {
      const before = (await driver.releases(projectId, server)).map((r) => r.id);
      // The build script moves the copied src/main.mjs into place: without it, the build fails.
      rmSync(join(workdir, "src", "main.mjs"));
      const commit = commitAll("broken");
      const error = await driver
        .build({ projectId, slug: "weather-api", commit, source, manifest, server })
        .then(
          () => null,
          (e: unknown) => e as AppError,
        );
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ kind: "invalid", code: "build_failed" });
      // (Compose v1's builder colours a step's stderr: the words come between escape codes.)
      expect(error?.details[0]?.message).toContain("cannot stat 'dist/src/main.mjs'");
      expect((await driver.releases(projectId, server)).map((r) => r.id)).toEqual(before);
      expect(readdirSync(join(remoteRoot, projectId, "releases")).sort()).toEqual([...before].sort());
      expect(await driver.isRunning(projectId, server)).toBe(true);
      // The failed build's layers carry the project label and were collected.
      const dangling = await dockerd.docker.listImages({
        filters: { dangling: ["true"], label: [`${PROJECT_LABEL}=${projectId}`] },
      });
      expect(dangling).toEqual([]);
    },
    DEPLOY_TIMEOUT_MS,
  );

  it("stops the project: container gone, nothing running, releases kept; prune removes them", async () => {
    await driver.stop(projectId, server);
    expect(await driver.isRunning(projectId, server)).toBe(false);
    expect(await labelsOfRunning()).toEqual([]);
    expect(
      await dockerd.docker.listContainers({
        all: true,
        filters: { label: [`${PROJECT_LABEL}=${projectId}`] },
      }),
    ).toEqual([]);
    expect(await driver.logs(projectId, server, 10)).toEqual([]);
    expect(existsSync(join(remoteRoot, projectId, "current"))).toBe(false);
    await driver.stop(projectId, server);
    const kept = await driver.releases(projectId, server);
    expect(kept).toHaveLength(2);

    await driver.prune(projectId, server, 1);
    const [newest] = kept;
    expect((await driver.releases(projectId, server)).map((r) => r.id)).toEqual([newest?.id]);
    // Top-level images of the project (tagged or dangling): only the kept release's.
    const images = await dockerd.docker.listImages({ filters: { label: [`${PROJECT_LABEL}=${projectId}`] } });
    expect(images.flatMap((i) => i.RepoTags ?? [])).toEqual([
      `${composeProjectName(projectId)}:${newest?.id}`,
    ]);

    // A teardown that keeps the data leaves the volume; one that deletes it removes it.
    const volume = `${composeProjectName(projectId)}-data`;
    await driver.teardown(projectId, server, { deleteData: false });
    expect((await dockerd.docker.listVolumes()).Volumes.map((v) => v.Name)).toContain(volume);
    await driver.teardown(projectId, server, { deleteData: true });
    expect((await dockerd.docker.listVolumes()).Volumes.map((v) => v.Name)).not.toContain(volume);
  });
});

// The registered server of the cases above, a project of its own, a driver of its own.
runDeployDriverConformance(
  "SshComposeDriver",
  async () => ({
    driver: new SshComposeDriver({
      connector,
      logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
      baseImage,
      remoteRoot,
      dockerHostFor: () => dockerd.socket,
      buildNetwork: "host",
    }),
    server,
    project: {
      projectId: "0c6f2f7a-3b1e-4d2a-8f5c-9a8b7c6d5e4f",
      slug: "conformance-api",
      // The first commit: the light project as it is (later ones were made to fail).
      commit: git("rev-list", "--max-parents=0", "HEAD"),
      source,
      manifest,
    },
    freePort,
    cleanup: async () => {},
  }),
  { buildMs: DEPLOY_TIMEOUT_MS, startMs: 120_000 },
);
