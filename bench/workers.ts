// bench/workers: what a worker costs. For each runtime, over N workers: create, the first turn
// of the scripted agent (write + report through the API), pause, resume and terminate, as p50/p95,
// next to a floor measured in the same run (spawning `true`; `docker run --rm` of the base image),
// printed as ratios; plus the memory a paused worker holds.
//   npm run bench:workers            (WORKERS=30 by default; DOCKER=0 skips the docker runtime)
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { packageRoot } from "../src/config/index.js";
import type { Worker } from "../src/contracts/index.js";
import type { Runtime, WorkerManager } from "../src/workers/index.js";
import { DockerRuntime, ScriptedBackend } from "../src/workers/index.js";
import { processesWithMarker } from "../src/workers/runtimes/runtime.conformance.js";
import { startDockerd } from "../test/support/dockerd.js";
import { baseImageTag, ensureWorkerImage } from "../test/support/worker-image.js";
import { buildManager, startWorkersHarness } from "../test/support/workers-harness.js";
import { percentile, printTable, timed } from "./stats.js";
import { recordSummary, type SummaryRow, summaryRow } from "./summary.js";

const N = Number(process.env.WORKERS ?? "30");
const withDocker = process.env.DOCKER !== "0";
const script = JSON.stringify({
  steps: [{ write: { path: "a.txt", content: "a" } }, { report: { status: "complete", summary: "ok" } }],
});

interface Sample {
  create: number[];
  firstTurn: number[];
  pause: number[];
  resume: number[];
  terminate: number[];
  pausedMemoryMb: number[];
}

async function measure(
  manager: WorkerManager,
  runtime: Runtime,
  projectId: string,
  memoryOf: (w: Worker) => Promise<number>,
): Promise<Sample> {
  const s: Sample = { create: [], firstTurn: [], pause: [], resume: [], terminate: [], pausedMemoryMb: [] };
  const workers: Worker[] = [];
  for (let i = 0; i < N; i++) {
    let worker: Worker | undefined;
    s.create.push(
      await timed(async () => {
        worker = await manager.create({
          role: "developer",
          projectId,
          backend: "scripted",
          runtime: runtime.kind,
        });
      }),
    );
    if (!worker) throw new Error("no worker");
    const w = worker;
    workers.push(w);
    s.firstTurn.push(
      await timed(async () => {
        const result = await manager.send(w.id, script, { timeoutMs: 120_000 });
        if (!result.ok) throw new Error(`turn failed: ${JSON.stringify(result.error)}`);
      }),
    );
    // A turn ends paused; resume then pause again to time both on a live sandbox.
    s.resume.push(await timed(() => manager.resume(w.id)));
    s.pause.push(await timed(() => manager.pause(w.id)));
    s.pausedMemoryMb.push(await memoryOf(w));
  }
  for (const w of workers) s.terminate.push(await timed(() => manager.terminate(w.id)));
  return s;
}

async function floor(run: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < N; i++) out.push(await timed(run));
  return out;
}

const spawnTrue = () =>
  new Promise<void>((resolve, reject) => {
    const child = spawn("true", [], { stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", () => resolve());
  });

/** Resident memory of every process carrying the worker's id (between turns there may be none). */
async function processSandboxMemoryMb(worker: Worker): Promise<number> {
  let kb = 0;
  for (const pid of await processesWithMarker(worker.id)) {
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    kb += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return kb / 1024;
}

/** The summary's rows of one runtime: create, first turn and terminate beside the floor's p50. */
function summaryOf(runtime: string, s: Sample, floorMs: number[]): SummaryRow[] {
  const label = runtime === "docker" ? "docker run --rm of the base image" : "spawn `true`";
  return (
    [
      ["create", s.create],
      ["first turn (scripted)", s.firstTurn],
      ["terminate", s.terminate],
    ] as const
  ).map(([op, values]) =>
    summaryRow({
      bench: "workers",
      measure: `${runtime} worker ${op}, p50`,
      unit: "ms",
      value: percentile(values, 50),
      baselineLabel: label,
      baseline: percentile(floorMs, 50),
    }),
  );
}

function rows(runtime: string, s: Sample, floorMs: number[]): (string | number)[][] {
  const base = percentile(floorMs, 50);
  const row = (op: string, v: number[]) => [
    runtime,
    op,
    percentile(v, 50),
    percentile(v, 95),
    base,
    percentile(v, 50) / base,
  ];
  return [
    row("create", s.create),
    row("first turn", s.firstTurn),
    row("pause", s.pause),
    row("resume", s.resume),
    row("terminate", s.terminate),
  ];
}

const h = await startWorkersHarness();
const project = await h.store.projects.create({ name: "bench" });
const table: (string | number)[][] = [];
const memory: (string | number)[][] = [];
const summary: SummaryRow[] = [];
try {
  const processFloor = await floor(spawnTrue);
  const processSample = await measure(h.manager, h.runtime, project.id, processSandboxMemoryMb);
  table.push(...rows("process", processSample, processFloor));
  summary.push(...summaryOf("process", processSample, processFloor));
  memory.push([
    "process",
    percentile(processSample.pausedMemoryMb, 50),
    "RSS of the sandbox's processes while paused",
  ]);

  if (withDocker) {
    const dockerd = await startDockerd();
    try {
      const image = await ensureWorkerImage(dockerd.docker);
      const runtime = new DockerRuntime({
        docker: dockerd.docker,
        image,
        workspaceRoot: `${h.root}-docker`,
        bindReadOnly: [packageRoot(), process.execPath],
      });
      const built = buildManager({
        store: h.store,
        url: h.url,
        root: h.root,
        runtimes: { docker: runtime },
        backends: { scripted: new ScriptedBackend() },
      });
      const dockerFloor = await floor(async () => {
        const container = await dockerd.docker.createContainer({
          Image: baseImageTag(),
          Cmd: ["true"],
          HostConfig: { AutoRemove: false },
        });
        await container.start();
        await container.wait();
        await container.remove({ force: true });
      });
      const dockerSample = await measure(built.manager, runtime, project.id, async (w) => {
        const stats = (await dockerd.docker
          .getContainer(`orchestrator-worker-${w.id}`)
          .stats({ stream: false })) as { memory_stats?: { usage?: number } };
        return (stats.memory_stats?.usage ?? Number.NaN) / 1024 / 1024;
      });
      table.push(...rows("docker", dockerSample, dockerFloor));
      summary.push(...summaryOf("docker", dockerSample, dockerFloor));
      memory.push(["docker", percentile(dockerSample.pausedMemoryMb, 50), "container memory while frozen"]);
    } finally {
      await dockerd.stop();
    }
  }
} finally {
  await h.close();
}

console.log(`\nbench/workers: ${N} workers per runtime, scripted agent (times in ms)\n`);
printTable(["runtime", "operation", "p50", "p95", "floor p50", "ratio p50/floor"], table);
console.log(
  "\nfloor: process = spawn `true`; docker = `docker run --rm` of the base image (create, start, wait, remove)\n",
);
printTable(["runtime", "paused worker memory (MB)", "note"], memory);
await recordSummary(summary);
