/**
 * What the scripted-agent engineering e2e files share: one engine harness per file (started before
 * its tests, closed after), the usual Architect and Developer scripts, and readers of a run's
 * events, verdicts and deploys.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import {
  architectScript,
  developerScript,
  timeAcceptanceFiles,
  timeRouteFiles,
} from "../../src/demo/index.js";
import { basicAuthEnv } from "../../src/git/index.js";
import {
  type EngineHarness,
  type EngineHarnessOptions,
  RUN_DEADLINE_MS,
  startEngineHarness,
} from "./engine-harness.js";

const run = promisify(execFile);
export const TEST_TIMEOUT = RUN_DEADLINE_MS + 60_000;

/** What the Architect of most scenarios writes: SPEC.md and an acceptance test for GET /api/time. */
export const timeArchitect = architectScript(
  "web-service",
  ["GET /api/time answers the current time"],
  timeAcceptanceFiles(),
);
export const redDeveloper = developerScript(
  timeRouteFiles("missing"),
  "Add GET /api/time (test expects a wrong key)",
);
export const greenDeveloper = developerScript(timeRouteFiles(), "Add GET /api/time with its test");

/**
 * Registers the file's harness (before all, after all) and returns it with its readers. `options` is
 * read when the harness starts, so it may name what an earlier `beforeAll` made (a Docker engine).
 */
export function scriptedEngineering(options: () => EngineHarnessOptions = () => ({})) {
  let harness: EngineHarness | null = null;
  let scratch = "";
  beforeAll(async () => {
    harness = await startEngineHarness(options());
    scratch = await mkdtemp(join(tmpdir(), "engineering-e2e-"));
  });
  afterAll(async () => {
    await harness?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });
  const h = (): EngineHarness => {
    if (!harness) throw new Error("the engine harness is not started");
    return harness;
  };
  const eventsOf = (runId: string) => h().store.runEvents.list(runId, { limit: 5000 });
  return {
    get h(): EngineHarness {
      return h();
    },
    project: (slug: string) => h().store.projects.create({ name: slug, slug, description: `e2e ${slug}` }),
    /** Clones the project's repository over git HTTP, as a person would, with the admin token. */
    async cloneOf(slug: string, into: string): Promise<string> {
      const dir = join(scratch, into);
      await run("git", ["clone", "--quiet", `${h().url}/git/${slug}.git`, dir], {
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", ...basicAuthEnv(h().adminToken) },
      });
      return dir;
    },
    eventsOf,
    async verdictsOf(runId: string) {
      return (await eventsOf(runId))
        .filter((e) => e.type === "engineering.tested")
        .map(
          (e) =>
            e.data as {
              passed: boolean;
              reason: string | null;
              commit: string;
              counts: { failed: number } | null;
            },
        );
    },
    async deployRunsOf(projectId: string) {
      return (await h().store.runs.list({ projectId, kind: "deploy", limit: 10, offset: 0 })).items;
    },
    /** Statuses the run moved through, from its events: a cheat must never pass through `succeeded`. */
    async statusesOf(runId: string) {
      return (await eventsOf(runId)).filter((e) => e.type === "run.status_changed").map((e) => e.data.to);
    },
  };
}
