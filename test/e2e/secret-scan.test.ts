/**
 * No secret in any record, end to end. The orchestrator runs as `up --demo` builds it (embedded
 * database on disk, scripted agents in real sandboxes, the real Tester, the local deploy driver),
 * with model keys in its config and project secrets in its vault. The developer agent prints its
 * environment, a token in base64, a model key and a file holding a project secret; the service it
 * writes prints its secrets and crashes when deployed. Then everything is read back: every run
 * event, deployment, worker log and API answer, every row of every table and the database's files
 * on disk, looking for each key, token and secret value and their base64 forms. Zero hits.
 *
 * Each source read is appended to `scanned`; a check of another record (say, a model's request
 * log) adds its own step before the final scan.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Orchestrator, ROLES, startOrchestrator } from "../../src/app/index.js";
import { loadConfig } from "../../src/config/index.js";
import type { Deployment, Run, RunEvent } from "../../src/contracts/index.js";
import { demoPlaybook, type ScriptedPlaybook } from "../../src/demo/index.js";
import { Vault } from "../../src/secrets/index.js";
import { freePort, workerPortRange } from "../support/ports.js";

const RUN_DEADLINE_MS = 300_000;
const MASK = "[REDACTED]";

/** What the test knows it must never find, by name (for the failure message). */
const MODEL_KEY = `sk-ant-api03-${randomBytes(30).toString("base64url")}`;
const FACTORY_KEY = `fk-${randomBytes(24).toString("base64url")}`;
const VAULT_KEY = randomBytes(32).toString("base64");
const PROJECT_SECRET = `svc_${randomBytes(33).toString("base64url")}`;

/** Raw text of a record, and where it came from. */
interface Scanned {
  where: string;
  text: string;
}
const scanned: Scanned[] = [];

let dir = "";
let dataDir = "";
let orchestrator: Orchestrator | null = null;
let url = "";
let adminToken = "";
let projectId = "";
/** Known only once the deploy generated it. */
let generatedSecret = "";

/** The service the developer writes: prints the secrets it was given, then stops. */
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

/** Declares the two secrets in the manifest and loads the leaky module first in main. */
const WIRE_UP = [
  'const fs = require("node:fs");',
  'const manifest = JSON.parse(fs.readFileSync("orchestrator.json", "utf8"));',
  "manifest.env.push(",
  '  { name: "SERVICE_SECRET", kind: "user-secret", required: true, description: "A secret the service prints." },',
  '  { name: "SERVICE_TOKEN", kind: "generated-secret", required: true, description: "Generated; printed too." },',
  ");",
  'fs.writeFileSync("orchestrator.json", JSON.stringify(manifest, null, 2) + "\\n");',
  'fs.writeFileSync("src/main.ts", \'import "./leak.js";\\n\' + fs.readFileSync("src/main.ts", "utf8"));',
].join("\n");

/** The demo's playbook, with a developer that first prints what it can reach. */
function leakyPlaybook(): ScriptedPlaybook {
  const demo = demoPlaybook();
  const developer = demo.developer[0];
  if (!developer) throw new Error("the demo playbook has no developer script");
  return {
    architect: demo.architect,
    developer: [
      {
        steps: [
          { run: { argv: ["env"] } },
          { run: { argv: ["sh", "-c", "printenv ORCHESTRATOR_TOKEN | base64"] } },
          { run: { argv: ["echo", MODEL_KEY] } },
          { write: { path: ".env", content: `SERVICE_SECRET=${PROJECT_SECRET}\n` } },
          { run: { argv: ["cat", ".env"] } },
          { run: { argv: ["rm", ".env"] } },
          { write: { path: "src/leak.ts", content: LEAKY_MODULE } },
          { run: { argv: ["node", "-e", WIRE_UP] } },
          ...developer.steps,
        ],
      },
    ],
  };
}

/** Calls the API with the admin token; every answer is kept for the scan. */
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
  const text = await res.text();
  scanned.push({ where: `API ${method} ${path}`, text });
  return { status: res.status, text };
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

/** Every file under `root`, recursively. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
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

  it("reads every row of every table, and the database's files", async () => {
    await orchestrator?.stop();
    orchestrator = null;
    const db = await PGlite.create(join(dataDir, "db"));
    try {
      const tables = await db.query<{ schema: string; name: string }>(
        `select table_schema as schema, table_name as name from information_schema.tables
         where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
      );
      expect(tables.rows.map((t) => t.name)).toEqual(expect.arrayContaining(["run_events", "deployments"]));
      for (const { schema, name } of tables.rows) {
        const rows = await db.query<Record<string, unknown>>(`select * from "${schema}"."${name}"`);
        const text = rows.rows
          .map((row) =>
            JSON.stringify(row, (_key, value: unknown) =>
              value instanceof Uint8Array ? Buffer.from(value).toString("utf8") : value,
            ),
          )
          .join("\n");
        scanned.push({ where: `table ${schema}.${name}`, text });
      }
    } finally {
      await db.close();
    }
    for (const file of await filesUnder(join(dataDir, "db"))) {
      scanned.push({ where: `file ${file}`, text: (await readFile(file)).toString("latin1") });
    }
  }, 120_000);

  it("finds no key, token or secret value, nor their base64, anywhere", () => {
    expect(generatedSecret).not.toBe("");
    const needles = new Map<string, string>();
    const forms = (name: string, value: string) => {
      needles.set(name, value);
      for (const [encoding, encode] of [
        ["base64", (v: string) => Buffer.from(v).toString("base64")],
        ["base64url", (v: string) => Buffer.from(v).toString("base64url")],
      ] as const) {
        // The characters that depend on the value alone (what any longer encoding also holds).
        const full = encode(value).replace(/=+$/, "");
        needles.set(`${name} (${encoding})`, full.slice(0, Math.floor((Buffer.byteLength(value) * 8) / 6)));
      }
    };
    forms("model key", MODEL_KEY);
    forms("Factory key", FACTORY_KEY);
    forms("vault key", VAULT_KEY);
    forms("project secret", PROJECT_SECRET);
    forms("generated secret", generatedSecret);
    forms("admin token", adminToken);
    const shapes: [string, RegExp][] = [
      ["an API token", /orc_[A-Za-z0-9_-]{43}/],
      ["an API token in base64", /b3JjX[A-Za-z0-9+/_-]{40}/],
    ];
    expect(scanned.length).toBeGreaterThan(20);
    const hits: string[] = [];
    for (const { where, text } of scanned) {
      for (const [name, needle] of needles) if (text.includes(needle)) hits.push(`${name} in ${where}`);
      for (const [name, shape] of shapes) if (shape.test(text)) hits.push(`${name} in ${where}`);
    }
    expect(hits).toEqual([]);
  });
});
