import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AppError } from "../../contracts/index.js";
import { DockerRuntime, dockerFromEnv } from "./docker-runtime.js";
import { dockerError, isPausedError } from "./docker-runtime-errors.js";
import { wrappedArgv } from "./docker-runtime-exec.js";

/** The connection settings docker-modem keeps (not in its type declarations). */
async function modemOf(env: Record<string, string>) {
  return (await dockerFromEnv(env)).modem as unknown as {
    socketPath?: string;
    host?: string;
    port?: number;
    protocol?: string;
  };
}

describe("dockerFromEnv", () => {
  it("uses the local socket when DOCKER_HOST is unset", async () => {
    expect((await modemOf({})).socketPath).toBe("/var/run/docker.sock");
  });

  it("takes a unix:// socket path", async () => {
    expect((await modemOf({ DOCKER_HOST: "unix:///tmp/x/docker.sock" })).socketPath).toBe(
      "/tmp/x/docker.sock",
    );
  });

  it("takes tcp://host:port as plain HTTP without TLS settings", async () => {
    const modem = await modemOf({ DOCKER_HOST: "tcp://10.0.0.5:2375" });
    expect([modem.host, Number(modem.port), modem.protocol]).toEqual(["10.0.0.5", 2375, "http"]);
  });

  it("refuses a DOCKER_HOST it cannot use", async () => {
    await expect(dockerFromEnv({ DOCKER_HOST: "ftp://x" })).rejects.toThrow(AppError);
    await expect(dockerFromEnv({ DOCKER_HOST: "not a url" })).rejects.toThrow(/DOCKER_HOST/);
  });
});

describe("dockerError", () => {
  it("maps engine failures to error kinds", () => {
    expect(dockerError(Object.assign(new Error("x"), { code: "ECONNREFUSED" }), "ping").kind).toBe(
      "unavailable",
    );
    expect(dockerError({ statusCode: 404, message: "no such container" }, "inspect").kind).toBe("not_found");
    const paused = { statusCode: 409, json: { message: "Container abc is paused, unpause the container" } };
    expect(isPausedError(paused)).toBe(true);
    expect(dockerError(paused, "exec").code).toBe("sandbox_paused");
    expect(dockerError({ statusCode: 409, message: "name in use" }, "create").code).toBe("docker_conflict");
    expect(dockerError({ statusCode: 500, message: "boom" }, "create").kind).toBe("unavailable");
  });
});

describe("wrappedArgv", () => {
  it("keeps argv as separate arguments and unsets only engine variables the caller did not give", () => {
    const argv = wrappedArgv(
      { argv: ["echo", "a b", "$HOME"], env: { PATH: "/bin" }, timeoutMs: 1 },
      "/tmp/p",
    );
    expect(argv.slice(-3)).toEqual(["echo", "a b", "$HOME"]);
    expect(argv).toContain("HOME");
    expect(argv).not.toContain("PATH");
    expect(argv.indexOf("--")).toBe(argv.length - 4);
  });
});

describe("DockerRuntime.pause", () => {
  /** An engine socket answering `POST /containers/<id>/pause` with the given statuses, in order. */
  async function engineAnswering(statuses: number[]) {
    const dir = await mkdtemp(join(tmpdir(), "orch-docker-pause-"));
    const socket = join(dir, "docker.sock");
    const calls: string[] = [];
    const server = createServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      const status = statuses[calls.length - 1] ?? 500;
      const message =
        status === 204
          ? ""
          : "Cannot pause container c1: OCI runtime pause failed: unable to freeze: unknown";
      res.writeHead(status, { "content-type": "application/json" });
      res.end(status === 204 ? "" : JSON.stringify({ message }));
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    const runtime = new DockerRuntime({
      docker: await dockerFromEnv({ DOCKER_HOST: `unix://${socket}` }),
      image: "unused",
      workspaceRoot: dir,
    });
    const sandbox = {
      id: "c1",
      workerId: "w1",
      workspace: "/w",
      hostWorkspace: dir,
      home: "/h",
      npmCache: null,
    };
    const close = async () => {
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    };
    return { runtime, sandbox, calls, close };
  }

  it("tries again when the freezer could not stop every process in time", async () => {
    const engine = await engineAnswering([500, 500, 204]);
    try {
      await engine.runtime.pause(engine.sandbox);
      expect(engine.calls).toEqual(Array(3).fill("POST /containers/c1/pause"));
    } finally {
      await engine.close();
    }
  });

  it("gives up after three tries, with the engine's reason", async () => {
    const engine = await engineAnswering([500, 500, 500, 204]);
    try {
      await expect(engine.runtime.pause(engine.sandbox)).rejects.toThrow(/unable to freeze/);
      expect(engine.calls).toHaveLength(3);
    } finally {
      await engine.close();
    }
  });
});
