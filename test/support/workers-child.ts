import { packageRoot } from "../../src/config/index.js";
import { openPgliteStore } from "../../src/store/index.js";
import { DockerRuntime, dockerFromEnv } from "../../src/workers/index.js";
import { buildManager } from "./workers-harness.js";

const dataDir = process.env.ORCH_DATA_DIR ?? "";
const root = process.env.ORCH_ROOT ?? "";
const count = Number(process.env.ORCH_WORKERS ?? "5");
const dockerHost = process.env.ORCH_DOCKER_HOST;
const store = await openPgliteStore(dataDir);
const project = await store.projects.create({ name: `crash-${Date.now()}` });
const runtimes = dockerHost
  ? {
      docker: new DockerRuntime({
        docker: await dockerFromEnv({ DOCKER_HOST: dockerHost }),
        image: process.env.ORCH_IMAGE ?? "",
        workspaceRoot: root,
        bindReadOnly: [packageRoot(), process.execPath],
      }),
    }
  : undefined;
const { manager } = buildManager({
  store,
  url: "http://127.0.0.1:9",
  root,
  useBubblewrap: process.env.ORCH_BWRAP === "1",
  runtimes,
});
const ids: string[] = [];
for (let i = 0; i < count; i++) {
  const worker = await manager.create({
    role: "developer",
    projectId: project.id,
    backend: "scripted",
    runtime: dockerHost ? "docker" : "process",
  });
  ids.push(worker.id);
  // Never awaited: the process is killed while these turns run.
  manager
    .send(worker.id, JSON.stringify({ steps: [{ sleep: { ms: 600_000 } }] }), { timeoutMs: 900_000 })
    .catch(() => undefined);
}
await new Promise((r) => setTimeout(r, 3000));
process.stdout.write(`${JSON.stringify({ ready: true, ids })}\n`);
await new Promise(() => undefined);
