import { describe, expect, it } from "vitest";
import { AppError } from "../../contracts/index.js";
import { dockerFromEnv } from "./docker-runtime.js";
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
