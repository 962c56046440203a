/**
 * Developers that do not do the brief, played by the real `claude` CLI against the fake Anthropic
 * API, each in its own project: one reports the prepared commit (the untouched template), one
 * deletes the acceptance test that fails, one commits only a README change. Each run ends
 * `blocked` with the Tester's reason, never passes through `succeeded`, and nothing deploys,
 * though a green run would queue its deploy here. The Architect (also the CLI) writes SPEC.md and
 * the acceptance test of the light project (test/support/light-project.ts: plain JavaScript under
 * node's test runner), which the Preparer commits before the developer starts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upstreamsFrom } from "../../src/llm/index.js";
import { ClaudeCodeBackend } from "../../src/workers/index.js";
import { type FakeAnthropic, type FakeReplyFn, startFakeAnthropic } from "../fakes/anthropic/index.js";
import { printedSha, type Step, transcript, turnIn } from "../support/claude-turns.js";
import { type EngineHarness, RUN_DEADLINE_MS, startEngineHarness } from "../support/engine-harness.js";
import { LIGHT_ACCEPTANCE_TEST, lightAcceptanceFiles, lightServiceFiles } from "../support/light-project.js";

const KEY = "sk-ant-fake-cheats-key-8d2e61c0a9f4b7";
/** Red rounds before a run ends blocked: each cheater is told why it is red and cheats again. */
const ROUNDS = 2;

/**
 * Where the CLI in each sandbox sends its model requests, and with which key: the one place to
 * change when model traffic goes through the API's model gateway instead of to the fake directly.
 */
function modelGateway(fake: FakeAnthropic) {
  return {
    upstreams: upstreamsFrom({
      anthropicBaseUrl: fake.url,
      openaiBaseUrl: null,
      credentials: { ANTHROPIC_API_KEY: KEY },
    }),
    knownSecrets: { ANTHROPIC_API_KEY: KEY },
  };
}

let fake: FakeAnthropic;
let h: EngineHarness;

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: KEY });
  h = await startEngineHarness({
    backends: { "claude-code": new ClaudeCodeBackend() },
    agentBackend: "claude-code",
    gateway: modelGateway(fake),
    maxIterations: ROUNDS,
    deployOnGreen: true,
  });
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
});

const SPEC = [
  "# Specification",
  "",
  "Template: web-service",
  "",
  "## Features",
  "- GET /api/time answers the current time as JSON under `now`",
  "",
].join("\n");
const ACCEPTANCE_PATH = LIGHT_ACCEPTANCE_TEST;

function architectTurn(): FakeReplyFn[] {
  return turnIn("[engineering architect]", [
    (ws) => ({ toolUse: { name: "Write", input: { file_path: `${ws}/SPEC.md`, content: SPEC } } }),
    // The template's runner is replaced: Claude Code's Write refuses to overwrite a file it has not read.
    (ws) => ({ toolUse: { name: "Read", input: { file_path: `${ws}/test/acceptance/run.mjs` } } }),
    ...Object.entries(lightAcceptanceFiles()).map(
      ([path, content]): Step =>
        (ws) => ({ toolUse: { name: "Write", input: { file_path: `${ws}/${path}`, content } } }),
    ),
    () => ({
      toolUse: {
        name: "mcp__orchestrator__report",
        input: {
          status: "complete",
          summary: "SPEC.md and the acceptance test for GET /api/time are written.",
        },
      },
    }),
    () => "Written and reported.",
  ]);
}

/** A developer turn that runs one shell command and reports the SHA it printed last as done. */
function developerTurn(attempt: number, command: string): FakeReplyFn[] {
  return turnIn(`[engineering developer attempt ${attempt}/${ROUNDS}]`, [
    () => ({ toolUse: { name: "Bash", input: { command, description: "Do the task" } } }),
    (_ws, body) => ({
      toolUse: {
        name: "mcp__orchestrator__report",
        input: { status: "complete", summary: "Implemented and pushed.", commit: printedSha(body) },
      },
    }),
    () => "Done.",
  ]);
}

const HEAD = "git rev-parse HEAD";
const PUSH = 'git add -A && git commit -q -m "$MSG" && git push -q origin HEAD && git rev-parse HEAD';

/** Runs a project's engineering with the given developer turns; returns the run and its evidence. */
async function cheat(slug: string, developer: FakeReplyFn[]) {
  fake.reset(); // a failed scenario leaves no replies behind for the next
  fake.enqueue(...architectTurn(), ...developer);
  const p = await h.store.projects.create({ name: slug, slug, description: "cheat" });
  const done = await h.waitForEnd(
    (await h.start({ projectId: p.id, brief: "A web service that tells the time." })).id,
  );
  const events = await h.store.runEvents.list(done.id, { limit: 5000 });
  const diagnose = JSON.stringify(
    { error: done.error, pending: fake.pending(), transcript: transcript(fake), events: events.slice(-30) },
    null,
    1,
  );
  const verdicts = events
    .filter((e) => e.type === "engineering.tested")
    .map(
      (e) =>
        e.data as {
          passed: boolean;
          reason: string;
          commit: string;
          changedAcceptance: string[];
          acceptanceCounts: { failed: number } | null;
        },
    );
  const statuses = events.filter((e) => e.type === "run.status_changed").map((e) => e.data.to);
  const deploys = await h.store.runs.list({ projectId: p.id, kind: "deploy", limit: 10, offset: 0 });
  const deployments = await h.store.deployments.list({ projectId: p.id, limit: 10, offset: 0 });
  return {
    project: await h.store.projects.get(p.id),
    done,
    verdicts,
    statuses,
    deploys,
    deployments,
    diagnose,
  };
}

/** What every cheater's run shows: blocked, never succeeded, nothing queued or deployed. */
function expectBlockedAndNothingDeployed(r: Awaited<ReturnType<typeof cheat>>) {
  expect(r.done.status, r.diagnose).toBe("blocked");
  expect(r.done.error?.code).toBe("tests_still_failing");
  expect(fake.pending(), r.diagnose).toBe(0);
  expect(r.statuses).not.toContain("succeeded");
  expect(r.verdicts.every((v) => !v.passed)).toBe(true);
  expect(r.verdicts).toHaveLength(ROUNDS);
  expect(r.deploys.items).toEqual([]);
  expect(r.deployments.items).toEqual([]);
  expect(r.project.status).toBe("blocked");
  expect((r.done.result as { commit: string | null }).commit).toBeNull();
}

describe("developers that do not do the brief, with the real claude CLI", () => {
  it(
    "reports the prepared commit: red no_change, blocked, nothing deploys",
    async () => {
      const r = await cheat("cheat-same", [...developerTurn(1, HEAD), ...developerTurn(2, HEAD)]);
      expectBlockedAndNothingDeployed(r);
      const prepared = (r.done.result as { preparedCommit: string }).preparedCommit;
      expect(r.verdicts.map((v) => [v.reason, v.commit])).toEqual([
        ["no_change", prepared],
        ["no_change", prepared],
      ]);
    },
    RUN_DEADLINE_MS + 60_000,
  );

  it(
    "deletes the failing acceptance test: red acceptance_changed, run from the prepared copy, blocked",
    async () => {
      // Some work of its own, with the light package (its install is what the Tester's round costs).
      const light = lightServiceFiles();
      const pkg = `printf '%s' '${light["package.json"]}' > package.json && printf '%s' '${light["package-lock.json"]}' > package-lock.json`;
      const remove = `git rm -q ${ACCEPTANCE_PATH} && ${pkg} && printf 'export const VERSION = 1;\\n' > src/version.mjs && MSG="Drop a flaky test" && ${PUSH}`;
      const r = await cheat("cheat-acceptance", [...developerTurn(1, remove), ...developerTurn(2, HEAD)]);
      expectBlockedAndNothingDeployed(r);
      for (const v of r.verdicts) {
        expect(v.reason).toBe("acceptance_changed");
        expect(v.changedAcceptance).toEqual([`${ACCEPTANCE_PATH} (deleted)`]);
        // The deleted test ran anyway, from the prepared copy, and failed: there is no src/time.mjs.
        expect(v.acceptanceCounts?.failed).toBeGreaterThan(0);
      }
    },
    RUN_DEADLINE_MS + 60_000,
  );

  it(
    "commits only a README change: red docs_only, blocked",
    async () => {
      const docs = `printf '# Time service\\n\\nGET /api/time tells the time.\\n' > README.md && MSG="Document the service" && ${PUSH}`;
      const r = await cheat("cheat-docs", [...developerTurn(1, docs), ...developerTurn(2, HEAD)]);
      expectBlockedAndNothingDeployed(r);
      expect(r.verdicts.map((v) => v.reason)).toEqual(["docs_only", "docs_only"]);
    },
    RUN_DEADLINE_MS + 60_000,
  );
});
