/**
 * A deploy reads a project's secrets to write its release's environment, and the audit trail
 * says so: one `read` row per secret it put there, by `deploy <runId>`, and none for the check a
 * blocked deploy made of what was missing. A tiny service (no npm install) keeps it quick.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page, Run, SecretAuditEntry } from "../../src/contracts/index.js";
import { type EngineHarness, startEngineHarness } from "../support/engine-harness.js";
import { gitEnv } from "../support/git.js";

const run = promisify(execFile);
const API_TOKEN = "api-token-value-5c2e91";
let h: EngineHarness;
let scratch = "";

const MANIFEST = {
  name: "audit-fixture",
  version: "1.0.0",
  language: "javascript",
  description: "An HTTP service that needs a secret and a generated password.",
  commands: {
    install: ["node", "-e", "0"],
    test: ["node", "-e", "0"],
    build: ["node", "-e", "0"],
    start: ["node", "server.js"],
  },
  healthCheck: { kind: "http", path: "/health" },
  resources: { cpus: 0.5, memoryMb: 128, diskMb: 64 },
  env: [
    { name: "PORT", kind: "allocated-port", required: true, description: "port" },
    { name: "API_TOKEN", kind: "user-secret", required: true, description: "a token the person gives" },
    { name: "DB_PASSWORD", kind: "generated-secret", required: true, description: "generated once" },
    { name: "OPTIONAL_KEY", kind: "user-secret", required: false, description: "never given" },
  ],
};
const SERVER = [
  'const http = require("node:http");',
  "http",
  '  .createServer((req, res) => res.end(req.url === "/health" && process.env.API_TOKEN ? "ok" : ""))',
  "  .listen(Number(process.env.PORT));",
  "",
].join("\n");

beforeAll(async () => {
  h = await startEngineHarness();
  scratch = await mkdtemp(join(tmpdir(), "secret-reads-"));
});
afterAll(async () => {
  await h?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** The project's first commit, pushed over git HTTP as a developer would. */
async function pushFixture(slug: string): Promise<string> {
  const dir = join(scratch, slug);
  const env = gitEnv(h.adminToken);
  await run("git", ["init", "--quiet", "-b", "main", dir], { env });
  await writeFile(join(dir, "orchestrator.json"), JSON.stringify(MANIFEST, null, 2));
  await writeFile(join(dir, "server.js"), SERVER);
  await run("git", ["add", "-A"], { cwd: dir, env });
  await run("git", ["commit", "--quiet", "-m", "service"], { cwd: dir, env });
  await run("git", ["push", "--quiet", `${h.url}/git/${slug}.git`, "HEAD:main"], { cwd: dir, env });
  return (await run("git", ["rev-parse", "HEAD"], { cwd: dir })).stdout.trim();
}

async function trail(projectId: string): Promise<SecretAuditEntry[]> {
  const res = await fetch(`${h.url}/api/secrets/audit?projectId=${projectId}&limit=200`, {
    headers: { authorization: `Bearer ${h.adminToken}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as Page<SecretAuditEntry>).items;
}

describe("secret reads of a deploy", () => {
  it("records one read row per secret the release's environment got, only for the real write", {
    timeout: 240_000,
  }, async () => {
    const project = await h.store.projects.create({ name: "Audited service", slug: "audited-service" });
    await h.forge.createRepository({ projectId: project.id, slug: project.slug });
    const commit = await pushFixture(project.slug);

    const blocked = await h.waitForEnd(
      (await h.tool<Run>("deploy.start", { projectId: project.id, commit })).id,
    );
    expect(blocked.status, JSON.stringify(blocked.error)).toBe("blocked");
    expect((blocked.result as { missing: string[] }).missing).toEqual(["API_TOKEN"]);
    // The environment stage resolved the contract to check it (and generated DB_PASSWORD): no read.
    expect((await trail(project.id)).filter((e) => e.action === "read")).toEqual([]);

    const stored = await h.tool<{ resumedRunId?: string | null }>("secret.set", {
      projectId: project.id,
      key: "API_TOKEN",
      value: API_TOKEN,
    });
    // A deploy blocked on this secret may go on by itself; otherwise it is started again.
    const deployId =
      stored.resumedRunId ?? (await h.tool<Run>("deploy.start", { projectId: project.id, commit })).id;
    const live = await h.waitForEnd(deployId);
    expect(live.status, JSON.stringify(live.error)).toBe("succeeded");

    const reads = (await trail(project.id)).filter((e) => e.action === "read");
    expect(reads.map((e) => e.key).sort()).toEqual(["API_TOKEN", "DB_PASSWORD"]);
    expect(reads.every((e) => e.actor === `deploy ${live.id}` && e.projectId === project.id)).toBe(true);
    expect(JSON.stringify(await trail(project.id))).not.toContain(API_TOKEN);

    const down = await h.waitForEnd(
      (await h.tool<Run>("project.teardown", { projectId: project.id, data: "keep" })).id,
    );
    expect(down.status).toBe("succeeded");
  });
});
