import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BIN,
  type CliResult,
  type RunningCli,
  runCli,
  START_DEADLINE_MS,
  startCli,
  waitForHealth,
} from "../support/cli.js";
import { freePort } from "../support/ports.js";

// The README's embedded mode, end to end: `orchestrator up` in a fresh data directory, the CLI
// against it, and a restart that keeps the data.
/** Several CLI commands in a row, each a new Node process, on a machine kept busy by other suites. */
const CLI_TEST_TIMEOUT = 90_000;

describe("embedded mode (orchestrator up)", () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let proc: RunningCli;
  let baseUrl: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "orch-up-"));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ORCHESTRATOR_DATA_DIR: dataDir,
      ORCHESTRATOR_PORT: String(port),
      LOG_LEVEL: "info",
    };
    proc = startCli(["up"], env);
    await waitForHealth(`${baseUrl}/health`, START_DEADLINE_MS, proc);
  }, START_DEADLINE_MS + 30_000);
  afterAll(async () => {
    await proc?.stop("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("prints the first admin token once, outside the log, and keeps it in a 0600 file", () => {
    const out = proc.output();
    const tokenLine = out.split("\n").find((l) => l.startsWith("Admin token"));
    expect(tokenLine).toMatch(/orc_[A-Za-z0-9_-]{43}/);
    const token = /orc_[A-Za-z0-9_-]{43}/.exec(tokenLine ?? "")?.[0] ?? "";
    const logLines = out.split("\n").filter((l) => l.startsWith("{"));
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) expect(line).not.toContain(token);
    expect(statSync(join(dataDir, "admin.token")).mode & 0o777).toBe(0o600);
  });

  it("creates a project with a UUID and lists it again after a restart", {
    timeout: START_DEADLINE_MS + 30_000,
  }, async () => {
    const created = await runCli(["project", "create", "--name", "demo"], env);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    const project = created.json.data as { id: string; slug: string };
    expect(project.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    expect(await proc.stop("SIGTERM")).toBe(0);
    proc = startCli(["up"], env);
    await waitForHealth(`${baseUrl}/health`, START_DEADLINE_MS, proc);
    expect(proc.output()).not.toContain("Admin token");

    const listed = await runCli(["project", "list"], env);
    expect(listed.code).toBe(0);
    const items = (listed.json.data as { items: { id: string }[] }).items;
    expect(items.map((p) => p.id)).toContain(project.id);
  });

  it("takes a secret's value from stdin, never from a flag, and never prints it", {
    timeout: CLI_TEST_TIMEOUT,
  }, async () => {
    const created = await runCli(["project", "create", "--name", "secret holder"], env);
    const projectId = (created.json.data as { id: string }).id;
    const value = "s3cret-value-that-must-not-leak";
    const set = await runCli(
      ["secret", "set", "--project-id", projectId, "--key", "API_KEY"],
      env,
      `${value}\n`,
    );
    expect(set.code, set.stdout + set.stderr).toBe(0);
    expect(set.json.data).toMatchObject({ key: "API_KEY", isFilled: true, length: value.length });
    expect(set.stdout + set.stderr).not.toContain(value);
    const flag = await runCli(
      ["secret", "set", "--project-id", projectId, "--key", "API_KEY", "--value", value],
      env,
    );
    expect(flag.code).toBe(1);
    const none = await runCli(["secret", "set", "--project-id", projectId, "--key", "API_KEY"], env, "");
    expect(none.json.error?.details[0]?.path).toBe("value");
    const listed = await runCli(["secret", "list", "--project-id", projectId], env);
    expect(listed.stdout).toContain("API_KEY");
    expect(listed.stdout).not.toContain(value);
    expect(proc.output()).not.toContain(value);
  });

  it("a bad argument prints which field and why, exit code 1", { timeout: CLI_TEST_TIMEOUT }, async () => {
    const empty = await runCli(["project", "create", "--name", ""], env);
    expect(empty.code).toBe(1);
    expect(empty.json.ok).toBe(false);
    expect(empty.json.error?.details[0]?.path).toBe("name");
    const badId = await runCli(["project", "get", "--id", "nope"], env);
    expect(badId.code).toBe(1);
    expect(badId.json.error?.details[0]).toMatchObject({ path: "id" });
    const unknown = await runCli(["project", "create", "--nmae", "x"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.json.error?.details[0]?.path).toBe("nmae");
    const missing = await runCli(["project", "get", "--id", "5b0c2d4e-1111-4222-8333-444455556666"], env);
    expect(missing.code).toBe(1);
    expect(missing.json.error?.code).toBe("not_found");
  });

  it("a second `up` on a taken port says so and exits, leaving nothing running", {
    timeout: START_DEADLINE_MS + 30_000,
  }, async () => {
    const otherDir = mkdtempSync(join(tmpdir(), "orch-up-taken-"));
    try {
      // runCli waits for the process to end: a half-started orchestrator would hang here.
      const res = await runCli(["up"], { ...env, ORCHESTRATOR_DATA_DIR: otherDir });
      expect(res.code).toBe(1);
      // Its log lines share stdout with the JSON document (before and after it): read that document.
      const start = res.stdout.lastIndexOf('{\n  "ok"');
      const document = res.stdout.slice(start, res.stdout.indexOf("\n}\n", start) + 2);
      const closing = JSON.parse(document) as CliResult["json"];
      expect(closing.error).toMatchObject({
        code: "port_in_use",
        details: [{ path: "ORCHESTRATOR_PORT", message: "in use by another process" }],
      });
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it("refuses the CLI a wrong token", async () => {
    const res = await runCli(["project", "list"], { ...env, ORCHESTRATOR_TOKEN: "orc_wrong" });
    expect(res.code).toBe(1);
    expect(res.json.error?.code).toBe("unauthorized");
    // It says who refused which token: the URL it talked to and where the token came from.
    expect(res.json.error?.message).toContain(`${baseUrl} refused the token from ORCHESTRATOR_TOKEN`);
    const elsewhere = await runCli(["project", "list"], { ...env, ORCHESTRATOR_API_URL: `${baseUrl}/` });
    expect(elsewhere.code).toBe(0);
  });

  it("serves the tools over MCP with a worker's scoped token", async () => {
    const created = await runCli(["project", "create", "--name", "mcp target"], env);
    const projectId = (created.json.data as { id: string }).id;
    const issued = await fetch(`${baseUrl}/api/tokens`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${readFileSync(join(dataDir, "admin.token"), "utf8").trim()}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        name: "dev",
        kind: "worker",
        projectId,
        role: "developer",
        groups: ["projects", "runs"],
      }),
    });
    const { token } = (await issued.json()) as { token: string };
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, "mcp"],
      env: { PATH: process.env.PATH ?? "", ORCHESTRATOR_API_URL: baseUrl, ORCHESTRATOR_TOKEN: token },
    });
    const client = new Client({ name: "test", version: "1" });
    await client.connect(transport);
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name).sort()).toEqual(["project_get", "run_get"]);
      const got = await client.callTool({ name: "project_get", arguments: { id: projectId } });
      const text = (got.content as { type: string; text: string }[])[0]?.text ?? "";
      expect(JSON.parse(text)).toMatchObject({ ok: true, data: { id: projectId } });
    } finally {
      await client.close();
    }
  });
});
