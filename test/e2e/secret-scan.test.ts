/**
 * No secret in any record, end to end. The orchestrator runs as `up --demo` builds it (embedded
 * database on disk, scripted agents in real sandboxes, the real Tester, the local deploy driver),
 * with model keys in its config and project secrets in its vault. The developer agent prints its
 * environment, a token in base64, a model key and a file holding a project secret; the service it
 * writes prints its secrets and crashes when deployed. Then everything is read back through the
 * leak scan: every run event, deployment, worker log and API answer, every text column of every
 * table and the database's files on disk, the workers' folders and every repository's history,
 * looking for each key, token and secret value in every encoding. Zero hits.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Orchestrator, ROLES, startOrchestrator } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import type { Deployment, Run, RunEvent } from "../../src/contracts/index.js";
import { developerScript, type ScriptedPlaybook } from "../../src/demo/index.js";
import { Vault } from "../../src/secrets/index.js";
import { leakScan } from "../support/leak-scan.js";
import { LIGHT_MAIN, lightArchitect, lightServiceFiles } from "../support/light-project.js";
import { freePort, workerPortRange } from "../support/ports.js";

const RUN_DEADLINE_MS = 300_000;
const MASK = "[REDACTED]";

/** What the test knows it must never find, by name (for the failure message). */
const MODEL_KEY = `sk-ant-api03-${randomBytes(30).toString("base64url")}`;
const FACTORY_KEY = `fk-${randomBytes(24).toString("base64url")}`;
const VAULT_KEY = randomBytes(32).toString("base64");
const PROJECT_SECRET = `svc_${randomBytes(33).toString("base64url")}`;

/** Every API answer this file gets is recorded from the start. */
const scan = leakScan();

let dir = "";
let dataDir = "";
let orchestrator: Orchestrator | null = null;
let url = "";
let adminToken = "";
let projectId = "";
/** Known only once the deploy generated it. */
let generatedSecret = "";

/** The module the developer's service loads first: prints the secrets it was given, then stops. */
const LEAKY_MODULE = [
  "// Prints the secrets it was given, then stops: a careless service.",
  "const secret = process.env.SERVICE_SECRET;",
  "if (secret) {",
  '  console.log("SERVICE_SECRET=" + secret);',
  '  console.log("SERVICE_TOKEN=" + (process.env.SERVICE_TOKEN ?? ""));',
  '  console.log("SERVICE_SECRET_BASE64=" + Buffer.from(secret).toString("base64"));',
  "  process.exit(1);",
  "}",
  "export {};",
  "",
].join("\n");

/** Declares the two secrets in the manifest. */
const WIRE_UP = [
  'const fs = require("node:fs");',
  'const manifest = JSON.parse(fs.readFileSync("orchestrator.json", "utf8"));',
  "manifest.env.push(",
  '  { name: "SERVICE_SECRET", kind: "user-secret", required: true, description: "A secret the service prints." },',
  '  { name: "SERVICE_TOKEN", kind: "generated-secret", required: true, description: "Generated; printed too." },',
  ");",
  'fs.writeFileSync("orchestrator.json", JSON.stringify(manifest, null, 2) + "\\n");',
].join("\n");

/**
 * The light project's playbook (test/support/light-project.ts), with a developer that first prints
 * what it can reach, and whose service loads the leaky module first.
 */
function leakyPlaybook(): ScriptedPlaybook {
  const develop = developerScript(
    {
      ...lightServiceFiles(),
      "src/leak.mjs": LEAKY_MODULE,
      "src/main.mjs": `import "./leak.mjs";\n${LIGHT_MAIN}`,
    },
    "Add the time service",
  );
  return {
    architect: lightArchitect,
    developer: [
      {
        steps: [
          { run: { argv: ["env"] } },
          { run: { argv: ["sh", "-c", "printenv ORCHESTRATOR_TOKEN | base64"] } },
          { run: { argv: ["echo", MODEL_KEY] } },
          { write: { path: ".env", content: `SERVICE_SECRET=${PROJECT_SECRET}\n` } },
          { run: { argv: ["cat", ".env"] } },
          { run: { argv: ["rm", ".env"] } },
          { run: { argv: ["node", "-e", WIRE_UP] } },
          ...develop.steps,
        ],
      },
    ],
  };
}

/** Calls the API with the admin token (the scan records every answer). */
async function call(
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, text: await res.text() };
}

async function json<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const { status, text } = await call(method, path, body);
  if (status >= 300) throw new Error(`${method} ${path}: ${status} ${text}`);
  return JSON.parse(text) as T;
}

const tool = async <T>(name: string, input: unknown) =>
  (await json<{ data: T }>("POST", `/api/tools/${name}`, input)).data;

async function until<T>(what: string, probe: () => Promise<T | null>, ms = RUN_DEADLINE_MS): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const ended = (run: Run) => ["succeeded", "failed", "blocked", "cancelled"].includes(run.status);

async function runsOf(kind: Run["kind"]): Promise<Run[]> {
  const store = orchestrator?.store;
  if (!store) throw new Error("orchestrator not running");
  return (await store.runs.list({ projectId, kind, limit: 50, offset: 0 })).items;
}

async function eventsOf(runId: string): Promise<RunEvent[]> {
  return (await json<{ items: RunEvent[] }>("GET", `/api/runs/${runId}/events?limit=1000`)).items;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "secret-scan-"));
  dataDir = join(dir, "data");
  const playbookFile = join(dir, "playbook.json");
  await writeFile(playbookFile, JSON.stringify(leakyPlaybook()));
  const [low, high] = workerPortRange(31_000);
  const port = await freePort();
  const config = loadConfig(
    {
      ORCHESTRATOR_DATA_DIR: dataDir,
      ORCHESTRATOR_PORT: String(port),
      LOG_LEVEL: "warn",
      SCRIPTED_PLAYBOOK: playbookFile,
      ANTHROPIC_API_KEY: MODEL_KEY,
      FACTORY_API_KEY: FACTORY_KEY,
      ORCHESTRATOR_SECRET_KEY: VAULT_KEY,
      DEPLOY_PORT_RANGE: `${low}-${high}`,
      DEPLOY_HEALTH_DEADLINE: "15s",
      SECRETS_REFRESH_INTERVAL: "2s",
    },
    "embedded",
  );
  const announced: string[] = [];
  orchestrator = await startOrchestrator(config, {
    roles: ROLES,
    demo: true,
    announce: (line) => announced.push(line),
  });
  url = orchestrator.url ?? "";
  adminToken = /orc_[A-Za-z0-9_-]{43}/.exec(announced.join("\n"))?.[0] ?? "";
  if (!url || !adminToken) throw new Error(`no API or admin token: ${announced.join("\n")}`);
  const origin = url;
  scan.recordResponses((u) => u.startsWith(origin));
  // Sandboxes (with the agent's transcripts) and the Tester's checkouts go when a run ends: watched.
  scan.watchFolder("workers", join(dataDir, "workers")).watchFolder("engine", join(dataDir, "engine"));
}, 120_000);

afterAll(async () => {
  await orchestrator?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("no secret in any record", () => {
  it(
    "runs a project whose agent prints its secrets and whose service prints them too",
    async () => {
      projectId = (await tool<{ id: string }>("project.create", { name: "Leaky service" })).id;
      await tool("secret.set", { projectId, key: "SERVICE_SECRET", value: PROJECT_SECRET });
      const started = await tool<Run>("engineering.start", {
        projectId,
        brief: "A web service that tells the time.",
      });
      const engineering = await until("the engineering run", async () => {
        const run = (await runsOf("engineering")).find((r) => r.id === started.id);
        return run && ended(run) ? run : null;
      });
      expect(engineering.status, JSON.stringify(engineering.error)).toBe("succeeded");
      const deploy = await until("the deploy run", async () => {
        const [run] = await runsOf("deploy");
        return run && ended(run) ? run : null;
      });
      // The service crashed after printing: its gate failed and the logs were kept.
      expect(deploy.status, JSON.stringify(deploy.error)).toBe("failed");
      const vault = Vault.fromBase64(VAULT_KEY);
      const ciphertext = await orchestrator?.store.secrets.getCiphertext(projectId, "SERVICE_TOKEN");
      generatedSecret = ciphertext ? vault.decrypt(ciphertext) : "";
      expect(generatedSecret.length).toBeGreaterThan(20);
    },
    RUN_DEADLINE_MS * 2,
  );

  it("shows a mask where each value was printed", async () => {
    const [engineering] = await runsOf("engineering");
    const progress = (await eventsOf(engineering?.id ?? ""))
      .filter((e) => e.type === "worker.progress")
      .map((e) => ("text" in e.data ? e.data.text : ""));
    const step = (command: string) => progress.find((text) => text.startsWith(command)) ?? "";
    expect(step("env ->")).not.toBe("");
    expect(step("sh -c printenv ORCHESTRATOR_TOKEN | base64 ->")).toMatch(/-> exit 0\n\[REDACTED\]/);
    expect(step("echo ")).toBe(`echo ${MASK} -> exit 0\n${MASK}`);
    expect(step("cat .env")).toBe(`cat .env -> exit 0\nSERVICE_SECRET=${MASK}`);

    const status = await tool<{ deployments: Deployment[] }>("deploy.status", { projectId });
    const excerpt = status.deployments[0]?.logsExcerpt ?? "";
    expect(excerpt).toContain(`SERVICE_SECRET=${MASK}`);
    expect(excerpt).toContain(`SERVICE_TOKEN=${MASK}`);
    expect(excerpt).toContain(`SERVICE_SECRET_BASE64=${MASK}`);

    const workers = await json<{ items: { id: string; role: string }[] }>(
      "GET",
      `/api/workers?projectId=${projectId}&limit=100`,
    );
    const developer = workers.items.find((w) => w.role === "developer");
    const logs = await json<{ lines: string[] }>("GET", `/api/workers/${developer?.id}/logs?lines=5000`);
    const envLine = logs.lines.find((line) => line.includes("ORCHESTRATOR_TOKEN=")) ?? "";
    expect(envLine).toContain(`ORCHESTRATOR_TOKEN=${MASK}`);
    expect(envLine).toContain(`ANTHROPIC_API_KEY=${MASK}`);
  });

  it("reads every run, event, deployment, worker and worker log through the API", async () => {
    const runs = await json<{ items: Run[] }>("GET", `/api/runs?projectId=${projectId}&limit=100`);
    expect(runs.items.length).toBeGreaterThanOrEqual(2);
    for (const run of runs.items) {
      await call("GET", `/api/runs/${run.id}`);
      await call("GET", `/api/runs/${run.id}/events?limit=1000`);
      await call("GET", `/api/runs/${run.id}/events/stream`);
    }
    await tool("deploy.status", { projectId });
    await tool("engineering.status", { projectId });
    await tool("project.get", { id: projectId });
    await tool("secret.list", { projectId });
    await call("GET", `/api/projects/${projectId}`);
    await call("GET", "/api/tokens");
    const workers = await json<{ items: { id: string }[] }>(
      "GET",
      `/api/workers?projectId=${projectId}&limit=100`,
    );
    expect(workers.items.length).toBeGreaterThanOrEqual(3);
    for (const worker of workers.items) {
      await call("GET", `/api/workers/${worker.id}`);
      await call("GET", `/api/workers/${worker.id}/logs?lines=5000`);
    }
  });

  it("reads every run event, then every text column of every table, the database's files, the workers' folders and every repository", async () => {
    if (!orchestrator) throw new Error("orchestrator not running");
    await scan.runEvents("run events", orchestrator.store.runEvents);
    await orchestrator.stop();
    orchestrator = null;
    await scan.pgliteDir("database", join(dataDir, "db"));
    expect(scan.scanned()).toEqual(
      expect.arrayContaining([
        'database: table "public"."run_events"',
        'database: table "public"."deployments"',
      ]),
    );
    await scan.folder("database files", join(dataDir, "db"));
    await scan.folder("repositories", join(dataDir, "git"));
    expect(scan.scanned()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^repositories: .+\.git \(git log -p --all\)$/)]),
    );
  }, 120_000);

  it("finds no key, token or secret value, in any encoding, anywhere", async () => {
    expect(generatedSecret).not.toBe("");
    scan
      .secret("model key", MODEL_KEY)
      .secret("Factory key", FACTORY_KEY)
      .secret("vault key", VAULT_KEY)
      .secret("project secret", PROJECT_SECRET)
      .secret("generated secret", generatedSecret)
      .secret("admin token", adminToken)
      // Worker tokens too, known by their shape: the developer printed its own, in base64 as well.
      .pattern("an API token", /orc_[A-Za-z0-9_-]{43}/)
      .pattern("an API token in base64", /b3JjX[A-Za-z0-9+/_-]{40}/)
      .allow(
        "a sandbox holds its own worker token, for its MCP server",
        (hit) =>
          /^workers: [^/]+\/home\/\.orchestrator\/mcp\.json$/.test(hit.where) &&
          hit.secret === "an API token",
      )
      .allow(
        "the leaky playbook above carries these values, as the agent that prints them",
        (hit) =>
          /^workers: [^/]+\/home\/\.scripted-sessions\//.test(hit.where) &&
          ["model key", "project secret"].includes(hit.secret),
      );
    await scan.assertClean();
    expect(scan.scanned().length).toBeGreaterThan(20);
  });
});
