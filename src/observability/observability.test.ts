import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { componentLogger, createLogger, createMetrics, SecretRedactor } from "./index.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe("logger", () => {
  it("writes JSON with component and correlation ids", () => {
    const { lines, stream } = capture();
    const root = createLogger({ level: "info", redactor: new SecretRedactor(), destination: stream });
    componentLogger(root, "engine", { projectId: "p1", runId: "r1" }).info({ step: 2 }, "stage done");
    const line = JSON.parse(lines[0] ?? "{}");
    expect(line).toMatchObject({
      component: "engine",
      projectId: "p1",
      runId: "r1",
      step: 2,
      msg: "stage done",
    });
  });

  it("masks every secret value the redactor knows, anywhere in the line", () => {
    const { lines, stream } = capture();
    const redactor = new SecretRedactor();
    const root = createLogger({ level: "info", redactor, destination: stream });
    redactor.add("123456:ABCdefGHIjkl");
    root.info({ nested: { note: "token is 123456:ABCdefGHIjkl here" } }, "got 123456:ABCdefGHIjkl");
    root.info({ headers: { authorization: "Bearer xyz" } }, "request");
    root.info(
      { headers: { cookie: "orch_session=s3cr3t" }, reply: { "set-cookie": "orch_session=s3cr3t" } },
      "web",
    );
    expect(lines.join("\n")).not.toContain("123456:ABCdefGHIjkl");
    expect(lines[0]).toContain("[REDACTED]");
    expect(lines[1]).not.toContain("Bearer xyz");
    expect(lines[2]).not.toContain("s3cr3t");
  });
});

describe("SecretRedactor", () => {
  it("masks a longer secret whole when it contains a shorter one", () => {
    const r = new SecretRedactor();
    r.add("abcdef");
    r.add("abcdef-123456");
    expect(r.redact("x abcdef-123456 y abcdef")).toBe("x [REDACTED] y [REDACTED]");
  });
  it("ignores values too short to scrub safely", () => {
    const r = new SecretRedactor();
    r.add("abc");
    expect(r.redact("abc")).toBe("abc");
  });
});

describe("metrics", () => {
  it("exposes HTTP metrics that promtool accepts", async () => {
    const metrics = createMetrics();
    metrics.httpRequests.inc({ method: "GET", route: "/health", status_code: "200" });
    metrics.httpDuration.observe({ method: "GET", route: "/health", status_code: "200" }, 0.01);
    const text = await metrics.render();
    expect(text).toContain(
      'orchestrator_http_requests_total{method="GET",route="/health",status_code="200"} 1',
    );
    const file = join(mkdtempSync(join(tmpdir(), "metrics-")), "metrics.txt");
    writeFileSync(file, text);
    // promtool prints problems and exits non-zero when it finds any.
    const out = execFileSync("sh", ["-c", `promtool check metrics < ${file} 2>&1`], { encoding: "utf8" });
    expect(out.trim()).toBe("");
  });
});
