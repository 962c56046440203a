/**
 * The `ssh-compose` deploy as data: the driver runs against a `RecordingExecutor` (no server), and
 * the commands and uploads it would make are checked one by one.
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { Server } from "../../../contracts/index.js";
import { createLogger, SecretRedactor } from "../../../observability/index.js";
import { parseManifest } from "../../../templates/index.js";
import { ComposeCommands, type RemoteCommand } from "./commands.js";
import { type CommandReply, RecordingExecutor } from "./executor.js";
import { PROJECT_LABEL } from "./remote-files.js";
import { RemoteLayout } from "./remote-layout.js";
import { SshComposeDriver } from "./ssh-compose-driver.js";

const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
const ROOT = "/srv/orchestrator";
const PROJECT = "5f1d7c4e-8a2b-4c3d-9e0f-123456789abc";
const DOCKER_HOST = "unix:///run/test-docker.sock";
const layout = new RemoteLayout(ROOT, PROJECT);
const COMMIT = "a".repeat(40);
const SECRET = "s3cr3t-value";
const server: Server = {
  id: "0b5e7a4c-1d2e-4f3a-9b8c-7d6e5f4a3b2c",
  handle: "box",
  host: "203.0.113.7",
  sshPort: 22,
  sshUser: "deploy",
  hasSshKey: true,
  capacity: null,
  status: "ready",
  lastHealthCheckAt: null,
  lastError: null,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
};

/** Compose v1 on the server: `docker compose` is unknown, `docker-compose` answers. */
const composeV1: CommandReply = (c) => {
  if (c.program === "docker" && c.args[0] === "compose") return { code: 1, stderr: "unknown command" };
  if (c.program === "docker-compose" && c.args[0] === "version") return { stdout: "1.29.2\n" };
  return undefined;
};

function driverOn(executor: RecordingExecutor): SshComposeDriver {
  return new SshComposeDriver({
    connector: { connect: async () => executor },
    logger,
    remoteRoot: ROOT,
    dockerHostFor: () => DOCKER_HOST,
  });
}

/** A built release on the paper server: its `release.json`. */
function seedRelease(executor: RecordingExecutor, id: string, builtAt: string): void {
  const record = { id, projectId: PROJECT, commit: COMMIT, image: `orch-${PROJECT}:${id}`, builtAt };
  executor.files.set(layout.file(id, "release.json"), Buffer.from(JSON.stringify(record)));
}

const manifestOf = async () =>
  parseManifest(
    JSON.parse(await readFile("templates/builtin/web-service/orchestrator.json", "utf8")),
    "web-service",
  );

const composeArgs = (id: string, ...rest: string[]) => [
  "--project-name",
  `orch-${PROJECT}`,
  "--env-file",
  layout.file(id, "compose.env"),
  "--file",
  layout.file(id, "docker-compose.yml"),
  ...rest,
];
const without = (commands: RemoteCommand[], step: string) => commands.filter((c) => c.step !== step);

describe("ssh-compose commands as data", () => {
  it("runs a release: writes its files, then compose up and the current link", async () => {
    const executor = new RecordingExecutor(composeV1);
    const id = `${COMMIT.slice(0, 12)}-20260101000000`;
    seedRelease(executor, id, "2026-01-01T00:00:00.000Z");
    const manifest = await manifestOf();
    await driverOn(executor).run({
      release: { id, projectId: PROJECT, commit: COMMIT, location: layout.releaseDir(id), builtAt: "" },
      env: { PORT: "30001", SECRET_TOKEN: SECRET },
      port: 30_001,
      manifest,
      slug: "weather-api",
      server,
    });
    expect(executor.argvs).toEqual([
      ["docker", "compose", "version", "--short"],
      ["docker-compose", "version", "--short"],
      ["docker-compose", ...composeArgs(id, "up", "-d", "--no-build", "--remove-orphans")],
      ["ln", "-sfn", `releases/${id}`, layout.currentLink],
    ]);
    const up = executor.commands[2];
    expect(up).toMatchObject({ step: "compose up", env: { DOCKER_HOST: DOCKER_HOST } });
    expect(up?.timeoutMs).toBeGreaterThan(0);
    expect(executor.commands[3]?.env).toBeUndefined();
    // The secret travels in the 0600 .env upload only, never on a command line.
    expect(executor.uploads.map((u) => [u.path, u.mode])).toEqual([
      [layout.file(id, ".env"), 0o600],
      [layout.file(id, "compose.env"), 0o600],
      [layout.file(id, "docker-compose.yml"), 0o644],
    ]);
    expect(String(executor.files.get(layout.file(id, ".env")))).toContain(SECRET);
    expect(JSON.stringify(executor.commands)).not.toContain(SECRET);
  });

  it("stops a project: compose down on the current release, leftovers by label, the link removed", async () => {
    const id = `${COMMIT.slice(0, 12)}-20260101000000`;
    const container = "f".repeat(64);
    const executor = new RecordingExecutor((c) => {
      if (c.program === "readlink") return { stdout: `releases/${id}\n` };
      if (c.step === "docker ps") return { stdout: `${container}\n` };
      return composeV1(c);
    });
    seedRelease(executor, id, "2026-01-01T00:00:00.000Z");
    await driverOn(executor).stop(PROJECT, server);
    expect(without(executor.commands, "compose version").map((c) => [c.program, ...c.args])).toEqual([
      ["readlink", layout.currentLink],
      ["docker-compose", ...composeArgs(id, "down", "--remove-orphans")],
      ["docker", "ps", "--quiet", "--no-trunc", "--filter", `label=${PROJECT_LABEL}=${PROJECT}`, "--all"],
      ["docker", "rm", "-f", container],
      ["rm", "-f", layout.currentLink],
    ]);
  });

  it("prunes all but the newest releases, never the current one, with their images", async () => {
    const ids = ["20260101000000", "20260102000000", "20260103000000"].map(
      (t) => `${COMMIT.slice(0, 12)}-${t}`,
    );
    const [oldest, middle, newest] = ids as [string, string, string];
    const executor = new RecordingExecutor((c) =>
      c.program === "readlink" ? { stdout: `releases/${oldest}\n` } : undefined,
    );
    for (const [i, id] of ids.entries()) seedRelease(executor, id, `2026-01-0${i + 1}T00:00:00.000Z`);
    await driverOn(executor).prune(PROJECT, server, 1);
    expect(executor.argvs).toEqual([
      ["readlink", layout.currentLink],
      ["rm", "-rf", layout.releaseDir(middle)],
      ["docker", "image", "rm", `orch-${PROJECT}:${middle}`],
      ["docker", "image", "prune", "--force", "--filter", `label=${PROJECT_LABEL}=${PROJECT}`],
    ]);
    expect(newest).toBeDefined();
  });

  it("asks the kernel's TCP tables whether a port is free", async () => {
    // 0x7531 = 30001, state 0A = LISTEN.
    const listening = "  sl  local_address rem_address   st\n   0: 00000000:7531 00000000:0000 0A\n";
    const executor = new RecordingExecutor((c) =>
      c.args[0] === "/proc/net/tcp" ? { stdout: listening } : undefined,
    );
    const driver = driverOn(executor);
    expect(await driver.isPortFree(30_001, server)).toBe(false);
    expect(await driver.isPortFree(30_002, server)).toBe(true);
    expect(executor.argvs.slice(0, 2)).toEqual([
      ["cat", "/proc/net/tcp"],
      ["cat", "/proc/net/tcp6"],
    ]);
  });

  it("tears down nothing on a removed server, and runs releases where the server is", async () => {
    const executor = new RecordingExecutor();
    const driver = driverOn(executor);
    await driver.teardown(PROJECT, { ...server, status: "removed" }, { deleteData: true });
    await driver.teardown(PROJECT, null, { deleteData: true });
    expect(executor.commands).toEqual([]);
    expect(driver.target(server)).toEqual({ server, host: server.host });
  });

  it("builds images with the classic builder's cleanup on Compose v1 only", () => {
    const commands = new ComposeCommands(layout, { DOCKER_HOST });
    const id = `${COMMIT.slice(0, 12)}-20260101000000`;
    const v1 = commands.composeBuild(
      { argv: ["docker-compose"], flavor: "v1", version: "1.29.2" },
      id,
      1_000,
    );
    const v2 = commands.composeBuild(
      { argv: ["docker", "compose"], flavor: "v2", version: "2.24.0" },
      id,
      1_000,
    );
    expect([v1.program, ...v1.args]).toEqual(["docker-compose", ...composeArgs(id, "build", "--force-rm")]);
    expect([v2.program, ...v2.args]).toEqual(["docker", "compose", ...composeArgs(id, "build")]);
    expect(v1).toMatchObject({ step: "compose build", timeoutMs: 1_000, env: { DOCKER_HOST } });
  });
});
