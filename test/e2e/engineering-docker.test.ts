/**
 * The engineering pipeline end to end on the docker runtime (`WORKER_RUNTIME=docker`): every worker
 * of the run, the Tester included, is a container of a private Docker engine started from the worker
 * image as `orchestrator worker-image build` makes it. The scripted agent writes the light project
 * (test/support/light-project.ts) on the web-service template; the Tester's `npm install`, `npm test`
 * and acceptance command run inside the container. The demo's own brief, with the template's
 * dependencies, is built on the process runtime in engineering.test.ts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, type TestVerdict } from "../../src/contracts/index.js";
import { DockerRuntime, dockerFromEnv, findHostNode, LABEL_RUN } from "../../src/workers/index.js";
import { startDockerd, type TestDockerd } from "../support/dockerd.js";
import { scriptedEngineering, TEST_TIMEOUT } from "../support/engineering-e2e.js";
import { LIGHT_ACCEPTANCE_NAME, lightPlaybook } from "../support/light-project.js";
import { ensureWorkerImage } from "../support/worker-image.js";

/** A fresh engine data root builds the image (import + build); a fresh machine also debootstraps. */
const SETUP_TIMEOUT_MS = 15 * 60_000;
const BRIEF = "A web service that tells the time.";

let engine: TestDockerd | null = null;
let image = "";

// Registered before the harness's hooks: the engine is up before the harness starts and (after
// hooks run in reverse) still up while the harness removes its containers.
beforeAll(async () => {
  engine = await startDockerd();
  image = await ensureWorkerImage(engine.docker);
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  await engine?.stop();
}, 120_000);

const dockerd = (): TestDockerd => {
  if (!engine) throw new Error("the Docker engine is not started");
  return engine;
};
const e = scriptedEngineering(() => ({ docker: { host: dockerd().socket, image } }));

/** Containers the engine created between `sinceS` and now carrying `label`, from its event log. */
async function containersCreated(docker: Dockerode, sinceS: number, label: string): Promise<string[]> {
  const stream = await docker.getEvents({
    since: sinceS,
    until: Math.ceil(Date.now() / 1000),
    filters: JSON.stringify({ type: ["container"], event: ["create"], label: [label] }),
  });
  let text = "";
  for await (const chunk of stream) text += String(chunk);
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => (JSON.parse(line) as { id: string }).id);
}

/** Runs `argv` in a bare container of the image (nothing bind-mounted) and returns its output. */
async function runInImage(docker: Dockerode, argv: string[]): Promise<{ status: number; output: string }> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: [],
    Cmd: argv,
    HostConfig: { NetworkMode: "none" },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = await container.logs({ stdout: true, stderr: true, follow: false });
    return { status: StatusCode, output: demux(logs) };
  } finally {
    await container.remove({ force: true });
  }
}

/** The text of a non-TTY container's multiplexed log (8-byte frame headers). */
function demux(buffer: Buffer): string {
  let text = "";
  for (let at = 0; at + 8 <= buffer.length; ) {
    const size = buffer.readUInt32BE(at + 4);
    text += buffer.subarray(at + 8, at + 8 + size).toString("utf8");
    at += 8 + size;
  }
  return text;
}

describe("engineering run on the docker runtime", () => {
  it(
    "builds the web-service brief in containers: the Tester installs and tests it inside one, and no container outlives the run",
    async () => {
      e.h.setPlaybook(lightPlaybook());
      const p = await e.project("docker-green");
      const sinceS = Math.floor(Date.now() / 1000) - 1;
      const queued = await e.h.start({ projectId: p.id, brief: BRIEF });
      const done = await e.h.waitForEnd(queued.id);
      const events = await e.eventsOf(done.id);
      const verdicts = events
        .filter((event) => event.type === "engineering.tested")
        .map((event) => event.data as TestVerdict);
      expect(done.status, JSON.stringify({ error: done.error, verdicts })).toBe("succeeded");
      expect(done.iteration).toBe(1);
      expect((done.result as { template: string }).template).toBe("web-service");

      // The Tester's own output: npm test ran the project's and the acceptance tests, all passing.
      expect(verdicts).toHaveLength(1);
      const [verdict] = verdicts as [TestVerdict];
      expect(verdict).toMatchObject({ passed: true, reason: null, ran: true, exitCode: 0 });
      expect(verdict.counts?.passed).toBeGreaterThanOrEqual(1);
      expect(verdict.counts?.failed).toBe(0);
      expect(verdict.acceptanceCounts?.passed).toBeGreaterThanOrEqual(1);
      expect(verdict.acceptanceCounts?.failed).toBe(0);
      // The tail is the end of `npm test`'s output, then the acceptance command's: node's test runner
      // writes TAP here (its output is not a terminal), whose summary counts are `# pass N`.
      const [testTail, acceptanceTail] = verdict.outputTail.split("$ node test/acceptance/run.mjs\n");
      expect(testTail).toContain(`# pass ${verdict.counts?.passed}\n# fail 0`);
      expect(acceptanceTail).toContain(`ok 1 - ${LIGHT_ACCEPTANCE_NAME}`);
      expect(acceptanceTail).toContain(`# pass ${verdict.acceptanceCounts?.passed}\n# fail 0`);

      // Every worker of the run was a container; Docker's log names them, and none is left.
      const workers = (await e.h.store.workers.list({ projectId: p.id, limit: 100, offset: 0 })).items;
      expect(new Set(workers.map((w) => w.role))).toEqual(new Set(["architect", "developer", "tester"]));
      expect(workers.map((w) => w.runtime)).toEqual(workers.map(() => "docker"));
      const runLabel = `${LABEL_RUN}=${done.id}`;
      const created = await containersCreated(dockerd().docker, sinceS, runLabel);
      expect(created.length).toBeGreaterThanOrEqual(workers.length);
      const left = await dockerd().docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: [runLabel] }),
      });
      expect(left).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it("the image carries this host's Node and npm; a missing image says how to build it", async () => {
    const host = await findHostNode();
    const versions = await runInImage(dockerd().docker, [
      "sh",
      "-c",
      "node --version && npm --version && command -v npx",
    ]);
    expect(versions).toEqual({
      status: 0,
      output: `${host.nodeVersion}\n${host.npmVersion}\n/usr/local/bin/npx\n`,
    });

    const workspaceRoot = await mkdtemp(join(tmpdir(), "orch-docker-missing-"));
    try {
      const runtime = new DockerRuntime({
        docker: await dockerFromEnv({ DOCKER_HOST: dockerd().socket }),
        image: "orchestrator-worker:never-built",
        workspaceRoot,
      });
      const failed = await runtime
        .create({
          workerId: `missing-${process.pid}`,
          projectId: "p-missing",
          runId: null,
          labels: {},
          limits: { cpus: 1, memoryMb: 128, pids: 64 },
          modelAgent: null,
        })
        .then(
          () => null,
          (error: unknown) => error,
        );
      expect(failed).toBeInstanceOf(AppError);
      expect(failed).toMatchObject({ kind: "unavailable", code: "worker_image_missing" });
      expect((failed as AppError).message).toContain(
        "npx orchestrator worker-image build --tag orchestrator-worker:never-built",
      );
    } finally {
      await rm(workspaceRoot, { recursive: true, force: true });
    }
  });
});
