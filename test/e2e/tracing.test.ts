import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeOtlpCollector, type ReceivedSpan, startFakeOtlpCollector } from "../fakes/otlp/index.js";
import { type RunningCli, START_DEADLINE_MS, startCli, waitForHealth } from "../support/cli.js";
import { lightPlaybook } from "../support/light-project.js";
import { freePort, workerPortRange } from "../support/ports.js";
import { until } from "../support/until.js";

/*
 * Tracing end to end: `orchestrator up --demo` (scripted PO and agents playing the light project of
 * test/support/light-project.ts; real git, tests and local deploy) exports its spans to a fake OTLP/HTTP collector. One person's message is one trace: the
 * chat message, the PO's turn and tool call, the engineering run with its stages and the
 * developer's worker turn, the deploy run with its health gate, each span a child of the one that
 * caused it, across the bus. The runs record that trace's id; no span carries a secret.
 */

const BRIEF = "a web service that tells the time";
/** A secret the orchestrator knows (a project's, in the vault) before the message is sent. */
const SEEDED_SECRET = "seeded-tracing-secret-7f3a9c1e5b";
/** One build and its deploy on a busy 2-core machine. */
const BUILD_DEADLINE_MS = 240_000;
const DEPLOY_PORT_BASE = 41_000;

interface Run {
  id: string;
  projectId: string;
  kind: string;
  status: string;
  traceId: string | null;
}

let collector: FakeOtlpCollector;
let proc: RunningCli;
let root: string;
let dataDir: string;
let baseUrl: string;
let adminToken: string;
let spans: ReceivedSpan[] = [];
const runs: { engineering: Run | null; deploy: Run | null } = { engineering: null, deploy: null };

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

const TERMINAL = ["succeeded", "failed", "blocked", "cancelled"];

beforeAll(
  async () => {
    collector = await startFakeOtlpCollector();
    root = await mkdtemp(join(tmpdir(), "tracing-e2e-"));
    dataDir = join(root, "data");
    const playbookFile = join(root, "playbook.json");
    await writeFile(playbookFile, JSON.stringify(lightPlaybook()));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    proc = startCli(["up", "--demo"], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ORCHESTRATOR_DATA_DIR: dataDir,
      ORCHESTRATOR_PORT: String(port),
      LOG_LEVEL: "info",
      SCRIPTED_PLAYBOOK: playbookFile,
      DEPLOY_PORT_RANGE: workerPortRange(DEPLOY_PORT_BASE).join("-"),
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_TRACE_URL: "http://jaeger.example:16686/trace/{traceId}",
    });
    await waitForHealth(`${baseUrl}/health`, START_DEADLINE_MS, proc);
    adminToken = (await readFile(join(dataDir, "admin.token"), "utf8")).trim();

    // A secret in the vault before anything is traced: the redactor knows it from then on.
    const seed = await api<{ data: { id: string } }>("POST", "/api/tools/project.create", {
      name: "Secret holder",
    });
    await api("POST", "/api/tools/secret.set", {
      projectId: seed.data.id,
      key: "API_KEY",
      value: SEEDED_SECRET,
    });

    const conversation = await api<{ id: string }>("POST", "/api/chat/conversations", {});
    await api("POST", `/api/chat/conversations/${conversation.id}/messages`, { text: BRIEF });
    runs.deploy = await until(
      "a finished deploy run",
      BUILD_DEADLINE_MS,
      async () => {
        const page = await api<{ items: Run[] }>("GET", "/api/runs?kind=deploy&limit=10&offset=0");
        return page.items.find((r) => TERMINAL.includes(r.status)) ?? null;
      },
      1_000,
    );
    const engineering = await api<{ items: Run[] }>(
      "GET",
      `/api/runs?kind=engineering&projectId=${runs.deploy.projectId}&limit=10&offset=0`,
    );
    runs.engineering = engineering.items[0] ?? null;
    // A polite stop flushes the spans still queued to the collector.
    expect(await proc.stop("SIGTERM")).toBe(0);
    spans = collector.spans();
  },
  START_DEADLINE_MS + BUILD_DEADLINE_MS + 60_000,
);

afterAll(async () => {
  await proc?.stop("SIGKILL");
  await collector?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** The one span named `name` (with `attrs`) in the message's trace. */
function one(name: string, attrs: Record<string, unknown> = {}): ReceivedSpan {
  const found = spans.filter(
    (s) => s.name === name && Object.entries(attrs).every(([k, v]) => s.attributes[k] === v),
  );
  if (found.length === 0)
    throw new Error(`no span ${name} ${JSON.stringify(attrs)}; got ${spans.map((s) => s.name).join(", ")}`);
  return found[0] as ReceivedSpan;
}

/** The chain of spans from `span` up to its trace's root. */
function ancestry(span: ReceivedSpan): string[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const names: string[] = [];
  let current: ReceivedSpan | undefined = span;
  while (current) {
    names.push(current.name);
    current = current.parentSpanId ? byId.get(current.parentSpanId) : undefined;
  }
  return names;
}

describe("tracing with OTEL_EXPORTER_OTLP_ENDPOINT set", () => {
  it("delivers the message's build and deploy", () => {
    expect(runs.engineering?.status, proc.output().slice(-4_000)).toBe("succeeded");
    expect(runs.deploy?.status, proc.output().slice(-4_000)).toBe("succeeded");
    expect(collector.requests().length).toBeGreaterThan(0);
    expect(collector.requests().every((r) => r.method === "POST" && r.path === "/v1/traces")).toBe(true);
  });

  it("makes one trace of the message: PO, runs, stages, worker turns and the deploy's health gate", () => {
    const message = one("chat.message");
    const trace = message.traceId;
    expect(message.parentSpanId).toBe("");
    expect(message.resource).toMatchObject({ "service.name": "codegen-orchestrator" });
    expect(message.resource["orchestrator.roles"]).toEqual(
      expect.arrayContaining(["api", "engine", "workers"]),
    );

    const engineeringRunId = runs.engineering?.id;
    const deployRunId = runs.deploy?.id;
    const poTurn = one("po.turn");
    const tool = one("po.tool", { "po.tool.name": "engineering.start" });
    const engineering = one("run.engineering", { "run.id": engineeringRunId });
    const architect = one("stage.architect", { "run.id": engineeringRunId });
    const developer = one("stage.developer", { "run.id": engineeringRunId });
    const tester = one("stage.tester", { "run.id": engineeringRunId });
    const turn = one("worker.turn", { "run.id": engineeringRunId, "worker.role": "developer" });
    const deploy = one("run.deploy", { "run.id": deployRunId });
    const gateStage = one("stage.healthGate", { "run.id": deployRunId });
    const gate = one("deploy.health_gate");
    for (const span of [
      poTurn,
      tool,
      engineering,
      architect,
      developer,
      tester,
      turn,
      deploy,
      gateStage,
      gate,
    ]) {
      expect(span.traceId, span.name).toBe(trace);
    }

    // Each span is the child of the one that caused it.
    expect(poTurn.parentSpanId).toBe(message.spanId);
    expect(tool.parentSpanId).toBe(poTurn.spanId);
    expect(engineering.parentSpanId).toBe(tool.spanId); // across the bus: the run's trigger
    for (const stage of [architect, developer, tester]) expect(stage.parentSpanId).toBe(engineering.spanId);
    expect(turn.parentSpanId).toBe(developer.spanId);
    expect(ancestry(deploy)).toContain("run.engineering"); // the green run's event started it
    expect(gateStage.parentSpanId).toBe(deploy.spanId);
    expect(gate.parentSpanId).toBe(gateStage.spanId);

    // What each says of itself: ids, kinds and results.
    expect(engineering.attributes).toMatchObject({ "run.kind": "engineering", "run.status": "succeeded" });
    expect(turn.attributes).toMatchObject({ "worker.turn.ok": true, "worker.turn.report": "complete" });
    expect(gate.attributes).toMatchObject({
      "deploy.health_gate.ok": true,
      "deploy.health_check.kind": "http",
    });
    expect(deploy.attributes).toMatchObject({ "run.kind": "deploy", "run.status": "succeeded" });
  });

  it("records the trace id on the runs it started", () => {
    const trace = one("chat.message").traceId;
    expect(runs.engineering?.traceId).toBe(trace);
    expect(runs.deploy?.traceId).toBe(trace);
  });

  it("never exports a secret, the admin token or the person's words", () => {
    const sent = collector.bodies().join("\n");
    expect(sent).not.toContain(SEEDED_SECRET);
    expect(sent).not.toContain(adminToken);
    expect(sent).not.toContain(BRIEF);
    for (const span of spans) {
      for (const value of Object.values(span.attributes)) {
        expect(String(value)).not.toContain(SEEDED_SECRET);
      }
    }
  });
});
