import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "./main.js";

/** Runs the CLI in-process with `env` set, collecting what it writes. */
async function runMain(args: string[], env: Record<string, string>) {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    await main(["node", "orchestrator", ...args]);
    return { stdout, stderr, exitCode: process.exitCode };
  } finally {
    out.mockRestore();
    err.mockRestore();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

afterEach(() => {
  process.exitCode = undefined;
});

describe("orchestrator worker-image build", () => {
  it("names the engine it could not reach, as a JSON error with exit code 1", async () => {
    const result = await runMain(["worker-image", "build", "--tag", "orchestrator-worker:test"], {
      DOCKER_HOST: "unix:///nonexistent/orchestrator-test/docker.sock",
    });
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      error: { code: "docker_unreachable", message: expect.stringContaining("unreachable") },
    });
    expect(result.stderr).toContain("building orchestrator-worker:test");
  });

  it("builds WORKER_IMAGE's tag when no --tag is given", async () => {
    const result = await runMain(["worker-image", "build"], {
      DOCKER_HOST: "unix:///nonexistent/orchestrator-test/docker.sock",
      WORKER_IMAGE: "example/worker:7",
    });
    expect(result.stderr).toContain("building example/worker:7");
    expect(result.exitCode).toBe(1);
  });

  it("refuses an empty --tag before touching any engine", async () => {
    const result = await runMain(["worker-image", "build", "--tag", " "], {
      DOCKER_HOST: "unix:///nonexistent/orchestrator-test/docker.sock",
    });
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      error: { code: "invalid_input", details: [expect.objectContaining({ path: "tag" })] },
    });
    expect(result.stderr).toBe("");
  });
});
