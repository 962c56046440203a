import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { componentLogger, createLogger, SecretRedactor } from "../../src/observability/index.js";
import { type PopulatedScrape, populatedScrape } from "../support/metrics-fixture.js";
import { parseExposition } from "../support/metrics-text.js";

const OPS = fileURLToPath(new URL("../../ops/", import.meta.url));
const read = (path: string) => readFileSync(join(OPS, path), "utf8");

/** Runs promtool; its output, or the test fails with what it said. */
function promtool(args: string[]): string {
  try {
    return execFileSync("promtool", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(" ")} failed:\n${stdout}${stderr}`);
  }
}

/**
 * The `expr` of every rule in a rules file: a one-line value, or a block scalar (`|` or `>`) whose
 * lines are indented deeper than its key. promtool has checked the file is valid YAML and PromQL.
 */
function ruleExpressions(text: string): string[] {
  const lines = text.split("\n");
  const exprs: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^(\s*)expr:\s*(.*)$/.exec(lines[i] ?? "");
    if (!match) continue;
    const indent = match[1]?.length ?? 0;
    const value = (match[2] ?? "").trim();
    if (!/^[|>]-?$/.test(value)) {
      exprs.push(value.replace(/^(['"])(.*)\1$/, "$2"));
      continue;
    }
    const body: string[] = [];
    while (i + 1 < lines.length) {
      const next = lines[i + 1] ?? "";
      if (next.trim() !== "" && next.length - next.trimStart().length <= indent) break;
      body.push(next.trim());
      i++;
    }
    exprs.push(body.join(" ").trim());
  }
  return exprs;
}

/** Every query of a Grafana dashboard: its panels' targets, rows' panels included. */
function dashboardExpressions(dashboard: unknown): string[] {
  const exprs: string[] = [];
  const walk = (panels: unknown) => {
    for (const panel of (panels as { type?: string; targets?: { expr?: string }[]; panels?: unknown[] }[]) ??
      []) {
      if (panel.type !== "row") {
        expect(
          panel.targets?.length ?? 0,
          `panel without a query: ${JSON.stringify(panel).slice(0, 80)}`,
        ).toBeGreaterThan(0);
      }
      for (const target of panel.targets ?? []) if (target.expr) exprs.push(target.expr);
      walk(panel.panels);
    }
  };
  walk((dashboard as { panels?: unknown[] }).panels);
  return exprs;
}

/** Label lists and operators of PromQL that look like names. */
const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
]);

/** The metric names a PromQL expression reads (functions, keywords, labels and literals aside). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "")
    .replace(/\boffset\s+\S+/g, "");
  const names: string[] = [];
  for (const match of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = bare.slice((match.index ?? 0) + match[0].length).trimStart();
    if (after.startsWith("(") || KEYWORDS.has(match[0])) continue;
    names.push(match[0]);
  }
  return names;
}

/** The label names each selector `metric{...}` of an expression matches on, by metric. */
function selectorLabels(expr: string): { metric: string; labels: string[] }[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)].map((m) => ({
    metric: m[1] ?? "",
    labels: [...(m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1] ?? ""),
  }));
}

/** Labels Prometheus adds to every series it scrapes with ops/prometheus/prometheus.yml. */
const TARGET_LABELS = new Set(["job", "instance", "process"]);
/** Series Prometheus itself writes for each target. */
const SCRAPE_SERIES = new Set(["up"]);

let scrape: PopulatedScrape;
let exported: Map<string, string>;
/** Label names seen on each sample name of the scrape. */
let labelsOf: Map<string, Set<string>>;
beforeAll(async () => {
  scrape = await populatedScrape();
  const { types, samples } = parseExposition(scrape.text);
  exported = types;
  labelsOf = new Map();
  for (const sample of samples) {
    const seen = labelsOf.get(sample.name) ?? new Set<string>();
    for (const label of Object.keys(sample.labels)) seen.add(label);
    labelsOf.set(sample.name, seen);
  }
});
afterAll(async () => {
  await scrape?.close();
});

/** Whether `name` (a family, or a histogram's bucket, sum or count) is exported. */
function isExported(name: string): boolean {
  if (SCRAPE_SERIES.has(name) || exported.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return base !== name && exported.get(base) === "histogram";
}

/** Checks that every metric and selector label the expressions name is one /metrics exports. */
function expectExported(exprs: string[], where: string): void {
  expect(exprs.length, `queries in ${where}`).toBeGreaterThan(0);
  for (const expr of exprs) {
    const names = metricNames(expr);
    expect(names.length, `a metric in ${where}: ${expr}`).toBeGreaterThan(0);
    for (const name of names) expect(isExported(name), `${name} (${where}: ${expr})`).toBe(true);
    for (const { metric, labels } of selectorLabels(expr)) {
      if (SCRAPE_SERIES.has(metric)) continue;
      for (const label of labels) {
        const has = labelsOf.get(metric)?.has(label) || TARGET_LABELS.has(label);
        expect(has, `label ${label} of ${metric} (${where}: ${expr})`).toBe(true);
      }
    }
  }
}

describe("ops/prometheus", () => {
  it("passes promtool check config and check rules", () => {
    // The token file is the operator's; promtool only needs one to exist beside the config.
    const dir = mkdtempSync(join(tmpdir(), "ops-prometheus-"));
    try {
      cpSync(join(OPS, "prometheus"), dir, { recursive: true });
      writeFileSync(join(dir, "orchestrator.token"), "not-a-real-token\n", { mode: 0o600 });
      expect(promtool(["check", "config", join(dir, "prometheus.yml")])).toMatch(/SUCCESS: \d+ rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const rules = promtool(["check", "rules", join(OPS, "prometheus", "alerts.yml")]);
    const count = (read("prometheus/alerts.yml").match(/^\s*- alert:/gm) ?? []).length;
    expect(rules).toContain(`SUCCESS: ${count} rules found`);
  });

  it("alerts only on metrics /metrics exports, with the labels they carry", () => {
    const text = read("prometheus/alerts.yml");
    const exprs = ruleExpressions(text);
    expect(exprs).toHaveLength((text.match(/^\s*- alert:/gm) ?? []).length);
    expectExported(exprs, "alerts.yml");
    // The alerts the issue names are there.
    for (const metric of [
      "orchestrator_runs_finished_total",
      "orchestrator_bus_dead_letter_messages",
      "orchestrator_worker_oldest_activity_age_seconds",
      "orchestrator_health_gates_total",
      "orchestrator_deployed_service_up",
    ]) {
      expect(
        exprs.some((e) => metricNames(e).includes(metric)),
        metric,
      ).toBe(true);
    }
  });
});

describe("ops/grafana", () => {
  it("queries only metrics /metrics exports, with the labels they carry", () => {
    const dashboard = JSON.parse(read("grafana/orchestrator.json")) as { uid?: string; title?: string };
    expect(dashboard.uid).toBeTruthy();
    expectExported(dashboardExpressions(dashboard), "orchestrator.json");
  });
});

describe("ops/loki", () => {
  it("labels log lines with component, project and run from the fields our logger writes", () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    });
    const root = createLogger({ level: "info", redactor: new SecretRedactor(), destination });
    componentLogger(root, "engine", {
      projectId: "6f1c2a4e-2b7d-4c1e-9a8f-0d3b5e7c9a11",
      runId: "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
    }).info("stage done");
    const line = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;

    // The processes' config and the compose deployment's (containers' stdout through Docker).
    const jobs = ["loki/promtail.yml", "loki/promtail.compose.yml"].flatMap((file) => {
      const fileJobs = read(file)
        .split(/^\s*- job_name:/m)
        .slice(1);
      expect(fileJobs.length, file).toBeGreaterThan(0);
      return fileJobs;
    });
    for (const job of jobs) {
      const expressions = /expressions:\n((?:\s{10,}\S.*\n)+)/.exec(job)?.[1] ?? "";
      const mapping = new Map(
        [...expressions.matchAll(/^\s*([a-z_]+):\s*(\S+)\s*$/gm)].map((m) => [m[1] ?? "", m[2] ?? ""]),
      );
      const labels = /- labels:\n((?:\s{10,}\S.*\n)+)/.exec(job)?.[1] ?? "";
      for (const label of ["component", "project", "run"]) {
        expect(labels, `${label} is a label`).toMatch(new RegExp(`^\\s*${label}:`, "m"));
        const field = mapping.get(label) ?? "";
        // The field it is read from is one our logger writes, with the value it was given.
        expect(Object.keys(line), `${label} <- ${field}`).toContain(field);
      }
      expect(line[mapping.get("component") ?? ""]).toBe("engine");
      expect(line[mapping.get("project") ?? ""]).toBe("6f1c2a4e-2b7d-4c1e-9a8f-0d3b5e7c9a11");
      expect(line[mapping.get("run") ?? ""]).toBe("0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b");
      // The timestamp stage reads the time field as RFC 3339, and the level as pino's number.
      expect(String(line[mapping.get("time") ?? ""])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      expect(job).toMatch(/format: RFC3339Nano/);
      expect(line[mapping.get("level") ?? ""]).toBe(30);
      expect(job).toContain('eq .Value "30" }}info');
    }
  });
});
