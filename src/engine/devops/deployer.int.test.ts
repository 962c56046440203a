import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devopsDeps, devopsState } from "../../../test/support/devops-deps.js";
import { openTestStore } from "../../../test/support/store.js";
import { LocalDriver } from "../../deploy/index.js";
import { createLogger, SecretRedactor } from "../../observability/index.js";
import { Vault } from "../../secrets/index.js";
import type { Store } from "../../store/index.js";
import { parseManifest } from "../../templates/index.js";
import { build } from "./deployer.js";
import type { DevopsDeps } from "./deps.js";
import { localServer } from "./helpers.js";
import { rollback } from "./rollback.js";

let store: Store;
let dir = "";
let deps: DevopsDeps;

beforeAll(async () => {
  store = await openTestStore();
  dir = await mkdtemp(join(tmpdir(), "deployer-"));
  const logger = createLogger({ level: "silent", redactor: new SecretRedactor() });
  deps = devopsDeps({
    store,
    dir,
    driver: new LocalDriver({ root: join(dir, "deploy"), logger }),
    vault: new Vault(randomBytes(32)),
    logger,
  });
});
afterAll(async () => {
  await deps?.driver.close();
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("build step", () => {
  it("closes the attempt a crash interrupted before trying again, and records a failed build", async () => {
    const project = await store.projects.create({ name: "Interrupted" });
    await deps.forge.createRepository({ projectId: project.id, slug: project.slug });
    const server = await localServer(store);
    const run = await store.runs.create({
      projectId: project.id,
      kind: "deploy",
      input: { action: "deploy" },
    });
    const commit = "a".repeat(40);
    // The attempt the engine was making when it died.
    const interrupted = await store.deployments.create({
      projectId: project.id,
      runId: run.id,
      serverId: server.id,
      commitSha: commit,
      release: "aaaaaaaaaaaa-20260101000000",
    });
    await store.deployments.finish(interrupted.id, "in_progress", {});
    const other = await store.runs.create({
      projectId: project.id,
      kind: "deploy",
      input: { action: "deploy" },
    });
    const another = await store.deployments.create({
      projectId: project.id,
      runId: other.id,
      commitSha: commit,
      release: "x",
    });
    await store.deployments.finish(another.id, "in_progress", {});

    const manifest = parseManifest(
      JSON.parse(await readFile("templates/builtin/web-service/orchestrator.json", "utf8")),
      "web-service",
    );
    const update = await build(
      deps,
      devopsState(
        run.id,
        { projectId: project.id, action: "deploy", commit, sourceRunId: null, resumes: null, data: "keep" },
        { commit, manifest, serverId: server.id, ports: { PORT: 30_000 } },
      ),
    );

    expect(await store.deployments.get(interrupted.id)).toMatchObject({
      status: "failed",
      logsExcerpt: expect.stringContaining("interrupted"),
    });
    // Another run's attempt is that run's business.
    expect((await store.deployments.get(another.id)).status).toBe("in_progress");
    // The commit is not in the repository: the build fails and says so, with its own record.
    expect(update.outcome).toMatchObject({ status: "failed", restoredPrevious: false });
    expect(update.deploymentId).not.toBe(interrupted.id);
    expect(await store.deployments.get(update.deploymentId as string)).toMatchObject({
      status: "failed",
      commitSha: commit,
      release: "unbuilt",
    });
  });
});

describe("rollback step", () => {
  it("ends the run failed with the failure, stopping the release when nothing served before", async () => {
    const project = await store.projects.create({ name: "Nothing before" });
    const server = await localServer(store);
    const run = await store.runs.create({
      projectId: project.id,
      kind: "deploy",
      input: { action: "deploy" },
    });
    const update = await rollback(
      deps,
      devopsState(
        run.id,
        {
          projectId: project.id,
          action: "deploy",
          commit: "b".repeat(40),
          sourceRunId: null,
          resumes: null,
          data: "keep",
        },
        { serverId: server.id, failure: { code: "health_gate_failed", message: "the gate said no" } },
      ),
    );
    expect(update.outcome).toEqual({
      status: "failed",
      code: "health_gate_failed",
      message: "the gate said no",
      missing: [],
      url: null,
      botUsername: null,
      restoredPrevious: false,
    });
    expect(await deps.driver.isRunning(project.id, null)).toBe(false);
    const events = await store.runEvents.list(run.id, {});
    expect(JSON.stringify(events)).toContain("nothing served before this attempt");
  });
});
