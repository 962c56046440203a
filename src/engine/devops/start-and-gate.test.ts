import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devopsDeps, devopsState } from "../../../test/support/devops-deps.js";
import { openTestStore } from "../../../test/support/store.js";
import type { Server } from "../../contracts/index.js";
import type { DeployDriver, Release, RunSpec } from "../../deploy/index.js";
import { createLogger, SecretRedactor } from "../../observability/index.js";
import { Vault } from "../../secrets/index.js";
import type { Store } from "../../store/index.js";
import { parseManifest } from "../../templates/index.js";
import { localServer } from "./helpers.js";
import { startAndGate } from "./smoke.js";

/**
 * One engine's view of a release process on this machine, as the local driver gives it: `run`
 * starts the process under this engine (answering /health on its port), `isRunning` is true only
 * while this engine supervises it. The process another engine started is nobody's here.
 */
class EngineView {
  readonly runs: RunSpec[] = [];
  private http: HttpServer | null = null;

  constructor(
    private readonly release: Release,
    private readonly port: number,
  ) {}

  driver(): DeployDriver {
    const partial: Partial<DeployDriver> = {
      target: (server: Server) => ({ server, host: "127.0.0.1" }),
      dataDir: () => "/tmp/start-and-gate-data",
      releases: async () => [this.release],
      run: async (spec) => {
        this.runs.push(spec);
        await this.stop();
        const http = createServer((_req, res) => res.writeHead(200).end("ok"));
        await new Promise<void>((resolve) => http.listen(this.port, "127.0.0.1", resolve));
        this.http = http;
      },
      isRunning: async () => this.http !== null,
      logs: async () => [],
    };
    return partial as DeployDriver;
  }

  async stop(): Promise<void> {
    const http = this.http;
    this.http = null;
    if (http) await new Promise((resolve) => http.close(resolve));
  }
}

let store: Store;
const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
const vault = new Vault(randomBytes(32));

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A deploy run at its start step: built release, allocated port, its deployment in progress. */
async function deployAtStart(name: string) {
  const project = await store.projects.create({ name });
  const server = await localServer(store);
  const run = await store.runs.create({ projectId: project.id, kind: "deploy", input: { action: "deploy" } });
  const commit = "b".repeat(40);
  const release: Release = {
    id: "bbbbbbbbbbbb-20261205000000",
    projectId: project.id,
    commit,
    location: "/nowhere",
    builtAt: new Date().toISOString(),
  };
  const deployment = await store.deployments.create({
    projectId: project.id,
    runId: run.id,
    serverId: server.id,
    commitSha: commit,
    release: release.id,
  });
  await store.deployments.finish(deployment.id, "in_progress", {});
  const manifest = parseManifest(
    JSON.parse(await readFile("templates/builtin/web-service/orchestrator.json", "utf8")),
    "web-service",
  );
  const port = await freePort();
  const state = devopsState(
    run.id,
    { projectId: project.id, action: "deploy", commit, sourceRunId: null, resumes: null, data: "keep" },
    {
      commit,
      manifest,
      serverId: server.id,
      ports: { PORT: port },
      deploymentId: deployment.id,
      release: release.id,
    },
  );
  return { release, port, state };
}

beforeAll(async () => {
  store = await openTestStore();
});
afterAll(async () => {
  await store?.close();
});

describe("start and health gate of a deploy run", () => {
  it("gates the process it started, starting it once", async () => {
    const { release, port, state } = await deployAtStart("Gated here");
    const engine = new EngineView(release, port);
    const steps = startAndGate(devopsDeps({ store, dir: "/tmp", driver: engine.driver(), vault, logger }));
    try {
      expect((await steps.start(state)).failure ?? null).toBeNull();
      const gated = await steps.gate(state);
      expect(gated.failure ?? null).toBeNull();
      expect(gated.gate).toMatchObject({ ok: true });
      expect(engine.runs).toHaveLength(1);
    } finally {
      await engine.stop();
    }
  });

  it("resumed at the gate by another engine, starts the release there again and gates it healthy", async () => {
    const { release, port, state } = await deployAtStart("Taken over");
    // The engine that started the release died after its start step; its process is gone with it
    // as far as the engine taking the run over can tell.
    const gone = new EngineView(release, port);
    await startAndGate(devopsDeps({ store, dir: "/tmp", driver: gone.driver(), vault, logger })).start(state);
    await gone.stop();
    const taker = new EngineView(release, port);
    const resumed = startAndGate(devopsDeps({ store, dir: "/tmp", driver: taker.driver(), vault, logger }));
    try {
      const gated = await resumed.gate(state);
      expect(gated.failure ?? null).toBeNull();
      expect(gated.gate).toMatchObject({ ok: true });
      expect(taker.runs.map((r) => r.release.id)).toEqual([release.id]);
      expect(taker.runs[0]?.port).toBe(port);
    } finally {
      await taker.stop();
    }
  });
});
