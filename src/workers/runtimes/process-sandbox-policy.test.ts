import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { AppError } from "../../contracts/index.js";
import type { SandboxSpec } from "../runtime.js";
import { ProcessRuntime } from "./process-runtime.js";

// Agents with a model never run on the host by accident: without a working bubblewrap the process
// runtime refuses their sandboxes, still makes model-free ones, and runs every one only when
// bubblewrap was turned off on purpose (WORKER_SANDBOX=none).

const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const REFUSAL = "bwrap: No permissions to create new namespace";
const REMEDIES = ["apt-get install bubblewrap", "WORKER_RUNTIME=docker", "WORKER_SANDBOX=none"];

let dir = "";
/** A folder holding only a `bwrap` that refuses every namespace and leaves a mark when it runs. */
let refusingBin = "";
/** A folder with no `bwrap` in it. */
let emptyBin = "";
let seq = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sandbox-policy-"));
  refusingBin = join(dir, "refusing");
  emptyBin = join(dir, "empty");
  await mkdir(refusingBin);
  await mkdir(emptyBin);
  await writeFile(
    join(refusingBin, "bwrap"),
    `#!/bin/sh\ntouch ${dir}/bwrap-ran\necho "${REFUSAL}" >&2\nexit 1\n`,
    { mode: 0o755 },
  );
});
afterEach(() => {
  vi.unstubAllEnvs();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function spec(modelAgent: string | null): SandboxSpec {
  seq += 1;
  return {
    workerId: `policy-${seq}`,
    projectId: "p1",
    runId: null,
    labels: {},
    limits: { cpus: 1, memoryMb: 256, pids: 64 },
    modelAgent,
  };
}

async function newRuntime(useBubblewrap?: boolean) {
  const warn = vi.fn();
  const root = await mkdtemp(join(dir, "root-"));
  const runtime = new ProcessRuntime({
    root,
    logger: { warn },
    useCgroup: false,
    ...(useBubblewrap === undefined ? {} : { useBubblewrap }),
  });
  return { runtime, warn, root };
}

async function refusalOf(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("ProcessRuntime without a usable bubblewrap", () => {
  it("refuses a claude-code sandbox when bwrap is missing, naming every remedy, and makes nothing", async () => {
    vi.stubEnv("PATH", emptyBin);
    const { runtime, root } = await newRuntime();
    const error = await refusalOf(runtime.create(spec("claude-code")));
    expect(error).toMatchObject({ kind: "unavailable", code: "sandbox_unavailable" });
    expect(error.message).toContain("a claude-code worker needs a sandbox");
    expect(error.message).toContain("bwrap is not installed");
    for (const remedy of REMEDIES) expect(error.message).toContain(remedy);
    expect((await readdir(root)).filter((name) => !name.startsWith("."))).toEqual([]);
    expect(await runtime.list()).toEqual([]);
  });

  it("refuses every backend with a model when bwrap cannot make a namespace, quoting bwrap", async () => {
    vi.stubEnv("PATH", `${refusingBin}:${HOST_PATH}`);
    const { runtime, warn } = await newRuntime();
    for (const agent of ["claude-code", "codex", "factory-droid", "api"]) {
      const error = await refusalOf(runtime.create(spec(agent)));
      expect(error.code).toBe("sandbox_unavailable");
      expect(error.message).toContain(`a ${agent} worker`);
      expect(error.message).toContain(REFUSAL);
      for (const remedy of REMEDIES) expect(error.message).toContain(remedy);
    }
    expect(existsSync(join(dir, "bwrap-ran"))).toBe(true);
    // Said once, when the runtime looked, with what runs and what is refused.
    const messages = warn.mock.calls.map((call) => String(call[1]));
    expect(messages).toHaveLength(2);
    expect(messages[1]).toContain("agents with a model are refused");
  });

  it("still makes a sandbox without a model (scripted, a Tester's) and runs it on the host, as before", async () => {
    vi.stubEnv("PATH", `${refusingBin}:${HOST_PATH}`);
    const { runtime } = await newRuntime();
    expect(await runtime.isolation()).toMatchObject({ bubblewrap: false });
    const sandbox = await runtime.create(spec(null));
    // Direct on the host: the workspace is the host folder, not bubblewrap's /workspace.
    expect(sandbox.workspace).toBe(sandbox.hostWorkspace);
    const result = await runtime.exec(sandbox, {
      argv: ["sh", "-c", "echo ran > out && cat out"],
      env: { PATH: HOST_PATH, HOME: sandbox.home },
      timeoutMs: 10_000,
    });
    expect(result).toMatchObject({ exitCode: 0, stdout: "ran\n" });
    await runtime.destroy(sandbox);
  });

  it("runs an agent with a model unsandboxed when bubblewrap is off on purpose, with one warning", async () => {
    await rm(join(dir, "bwrap-ran"), { force: true });
    vi.stubEnv("PATH", `${refusingBin}:${HOST_PATH}`);
    const { runtime, warn } = await newRuntime(false);
    const a = await runtime.create(spec("claude-code"));
    const b = await runtime.create(spec("codex"));
    const result = await runtime.exec(a, {
      argv: ["sh", "-c", "pwd"],
      env: { PATH: HOST_PATH, HOME: a.home },
      timeoutMs: 10_000,
    });
    expect(result).toMatchObject({ exitCode: 0, stdout: `${a.hostWorkspace}\n` });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[1])).toMatch(
      /WORKER_SANDBOX=none.*agents with a model included.*unsandboxed/,
    );
    // Turned off means not even asked.
    expect(existsSync(join(dir, "bwrap-ran"))).toBe(false);
    await runtime.destroy(a);
    await runtime.destroy(b);
  });
});
