import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Server, TemplateManifest } from "../contracts/index.js";
import type { GitAccess } from "../git/index.js";
import type { DeployDriver, RecoveryContext, Release, RunSpec } from "./driver.js";

/**
 * A project the suite deploys: a repository holding, at `commit`, a `web-service` project (the
 * template, or one answering /health and its notes routes the same way).
 */
export interface ConformanceProject {
  projectId: string;
  slug: string;
  commit: string;
  source: GitAccess;
  manifest: TemplateManifest;
}

/** One driver under test, opened on its real backing (this machine, or a server over SSH). */
export interface OpenedDriver {
  driver: DeployDriver;
  /** The server record deploys are allocated to (this machine's record for the local driver). */
  server: Server;
  /** A project no other case of the file touches. */
  project: ConformanceProject;
  /** A TCP port free where releases run. */
  freePort(): Promise<number>;
  /** Releases what `open` made; the suite stops the project and closes the driver first. */
  cleanup(): Promise<void>;
}

const NOTHING_SERVES: RecoveryContext = {
  servingRelease: async () => null,
  runSpecFor: async () => {
    throw new Error("nothing should be run again");
  },
};

async function answers(url: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(url, { signal: AbortSignal.timeout(3_000) })
      .then((r) => r.status)
      .catch(() => 0);
    if (status === 200 || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * The one behavioural suite every `DeployDriver` passes: where releases run, building a commit
 * once, running it on its port, logs, recovery that adopts nothing that should not serve, the
 * periodic pass, data kept in `DATA_DIR` across starts and teardowns unless deleted, teardown
 * (idempotent) and pruning. The cases run in order on one project and
 * share one build, so the suite costs one real build per driver.
 */
export function runDeployDriverConformance(
  name: string,
  open: () => Promise<OpenedDriver>,
  timeouts: { buildMs: number; startMs: number },
): void {
  describe(`DeployDriver conformance: ${name}`, () => {
    let opened: OpenedDriver;
    let driver: DeployDriver;
    let target: Server | null;
    let release: Release;
    let port = 0;
    let host = "";

    beforeAll(async () => {
      opened = await open();
      driver = opened.driver;
      // A clean slate: an interrupted earlier run may have left the project's data (a volume).
      await driver.teardown(opened.project.projectId, opened.server, { deleteData: true });
      ({ server: target, host } = driver.target(opened.server));
      port = await opened.freePort();
    }, timeouts.startMs);

    afterAll(async () => {
      if (!opened) return;
      await driver
        .teardown(opened.project.projectId, opened.server, { deleteData: true })
        .catch(() => undefined);
      await driver.close();
      await opened.cleanup();
    }, timeouts.startMs);

    const runSpec = (): RunSpec => ({
      release,
      env: { PORT: String(port), APP_ENV: "conformance", DATA_DIR: driver.dataDir(opened.project.projectId) },
      port,
      manifest: opened.project.manifest,
      slug: opened.project.slug,
      server: target,
    });

    it("says where its releases run: on the allocated server, or here with no server", () => {
      expect(driver.needsServer).toBe(target !== null);
      if (target) expect(target).toEqual(opened.server);
      expect(host.length).toBeGreaterThan(0);
    });

    it(
      "builds a commit into a release, and finds it built the second time",
      async () => {
        const { projectId, slug, commit, source, manifest } = opened.project;
        const spec = { projectId, slug, commit, source, manifest, server: target };
        release = await driver.build(spec);
        expect(release).toMatchObject({ projectId, commit });
        expect(release.id.startsWith(commit.slice(0, 12))).toBe(true);
        expect(await driver.build(spec)).toEqual(release);
        expect((await driver.releases(projectId, target)).map((r) => r.id)).toEqual([release.id]);
      },
      timeouts.buildMs,
    );

    it(
      "runs the release on its port, reachable at the target's host",
      async () => {
        const { projectId } = opened.project;
        expect(await driver.isRunning(projectId, target)).toBe(false);
        await driver.run(runSpec());
        expect(await driver.isRunning(projectId, target)).toBe(true);
        expect(await answers(`http://${host}:${port}/health`, 60_000)).toBe(200);
        expect(await driver.isPortFree(port, target)).toBe(false);
        const lines = await driver.logs(projectId, target, 5);
        expect(lines.length).toBeGreaterThan(0);
        expect(lines.length).toBeLessThanOrEqual(5);
      },
      timeouts.startMs,
    );

    it(
      "recovers nothing that should not serve, and its periodic pass leaves the release running",
      async () => {
        const { projectId } = opened.project;
        expect(await driver.recover(NOTHING_SERVES)).toEqual({ recovered: [], failed: [] });
        await driver.maintain(NOTHING_SERVES);
        expect(await driver.isRunning(projectId, target)).toBe(true);
      },
      timeouts.startMs,
    );

    it(
      "keeps what a release stored in DATA_DIR when the release starts again",
      async () => {
        const { projectId } = opened.project;
        const stored = await fetch(`http://${host}:${port}/api/notes`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: "remember me" }),
        });
        expect(stored.status).toBe(201);
        await driver.run(runSpec());
        expect(await answers(`http://${host}:${port}/health`, 60_000)).toBe(200);
        const listed = await fetch(`http://${host}:${port}/api/notes`).then((r) => r.json());
        expect(listed).toMatchObject({ notes: [expect.objectContaining({ text: "remember me" })] });
        expect(await driver.isRunning(projectId, target)).toBe(true);
      },
      timeouts.startMs,
    );

    it(
      "tears the project down, twice without harm; the release stays until pruned",
      async () => {
        const { projectId } = opened.project;
        await driver.teardown(projectId, opened.server, { deleteData: false });
        expect(await driver.isRunning(projectId, target)).toBe(false);
        await driver.teardown(projectId, opened.server, { deleteData: false });
        await driver.stop(projectId, target);
        expect(await answers(`http://${host}:${port}/health`, 0)).toBe(0);
        expect((await driver.releases(projectId, target)).map((r) => r.id)).toEqual([release.id]);
        // Kept data is there for the next deploy; deleted data is gone for good.
        const notes = async () => {
          await driver.run(runSpec());
          expect(await answers(`http://${host}:${port}/health`, 60_000)).toBe(200);
          const listed = (await fetch(`http://${host}:${port}/api/notes`).then((r) => r.json())) as {
            notes: { text: string }[];
          };
          return listed.notes.map((n) => n.text);
        };
        expect(await notes()).toEqual(["remember me"]);
        await driver.teardown(projectId, opened.server, { deleteData: true });
        expect(await notes()).toEqual([]);
        await driver.stop(projectId, target);
        await driver.prune(projectId, target, 0);
        expect(await driver.releases(projectId, target)).toEqual([]);
      },
      timeouts.startMs,
    );
  });
}
