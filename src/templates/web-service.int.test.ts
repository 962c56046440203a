/**
 * Renders the web-service template and runs its manifest's own commands for real (npm install reaches the
 * npm registry), then starts it as the local deploy driver would and checks it from the outside: health,
 * a malformed request, data kept on DATA_DIR across a restart (of a pruned release), clean SIGTERM.
 */
import { cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  installTestBuild,
  run,
  type Started,
  startHttp,
  stop,
  trimAsRelease,
} from "../../test/support/template-project.js";
import type { TemplateManifest } from "../contracts/index.js";
import { renderTemplate } from "./index.js";

/** Sends `text` as is over TCP and resolves with everything the server answered before closing. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(text));
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(answer));
    socket.setTimeout(5_000, () => socket.destroy(new Error("no answer within 5 s")));
  });
}

describe("web-service template, installed, tested and started for real", () => {
  let root = "";
  let dir = "";
  let dataDir = "";
  let manifest: TemplateManifest | undefined;
  const running: Started[] = [];
  const variables = {
    projectName: "Weather Service",
    slug: "weather-service",
    description: 'Says "sunny" <b>& more</b>',
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "template-web-service-"));
    dir = join(root, "web-service");
    dataDir = join(root, "data");
  });
  afterAll(async () => {
    await Promise.all(running.map((s) => stop(s.child)));
    await rm(root, { recursive: true, force: true });
  });

  /** Starts the service from `cwd` with what the deploy sets (DATA_DIR, APP_ENV, LOG_LEVEL's literal). */
  async function startService(cwd: string): Promise<{ service: Started; port: number; health: unknown }> {
    if (!manifest) throw new Error("the template was not rendered");
    const { started, port, health } = await startHttp(manifest, cwd, {
      APP_ENV: "test",
      DATA_DIR: dataDir,
      LOG_LEVEL: "info",
    });
    running.push(started);
    return { service: started, port, health };
  }

  it("web-service: the manifest declares DATA_DIR, conventions and a release spec that keeps what start needs", async () => {
    manifest = await renderTemplate({ template: "web-service", into: dir, variables });
    expect(manifest.version).toBe("2.0.0");
    expect(manifest.env.find((e) => e.name === "DATA_DIR")).toMatchObject({
      kind: "computed",
      computed: "DATA_DIR",
      required: true,
    });
    expect(manifest.conventions).toBe("CONVENTIONS.md");
    const conventions = await readFile(join(dir, "CONVENTIONS.md"), "utf8");
    expect(conventions).toMatch(/^## /);
    expect(conventions).not.toMatch(/^# /m);
    expect(manifest.release?.prune).toEqual(["npm", "prune", "--omit=dev"]);
    for (const excluded of manifest.release?.exclude ?? []) {
      expect(["dist", "dist/src", "public", "package.json", "node_modules"]).not.toContain(excluded);
    }
    expect(JSON.parse(await readFile(join(dir, "package-lock.json"), "utf8")).name).toBe("weather-service");
  });

  it("web-service: its own tests pass", { timeout: 240_000 }, async () => {
    if (!manifest) throw new Error("the template was not rendered");
    const output = await installTestBuild(manifest, dir);
    expect(output).toMatch(/^ℹ pass \d+/m);
  });

  it("web-service: the acceptance command runs whatever tsconfig.json says, and names a file it cannot read", {
    timeout: 120_000,
  }, async () => {
    if (!manifest?.acceptance) throw new Error("the template was not rendered");
    const tsconfig = join(dir, "tsconfig.json");
    const original = await readFile(tsconfig, "utf8");
    const broken = join(dir, "test/acceptance/broken.test.ts");
    try {
      // A project that compiles only src/ (as a developer might set it) still gets its acceptance run.
      await writeFile(tsconfig, original.replace('"include": ["src", "test"]', '"include": ["src"]'));
      const accepted = await run(manifest.acceptance.test, dir);
      expect(accepted.code, accepted.output).toBe(0);
      expect(accepted.output).toMatch(/^ℹ pass [1-9]\d*$/m);
      expect(accepted.output).toMatch(/^ℹ fail 0$/m);

      await writeFile(broken, 'import { test } from "node:test";\ntest("x", () => {\n');
      const failed = await run(manifest.acceptance.test, dir);
      expect(failed.code).toBe(1);
      expect(failed.output).toContain("test/acceptance/broken.test.ts(3,1): '}' expected.");
    } finally {
      await writeFile(tsconfig, original);
      await rm(broken, { force: true });
    }
  });

  it("web-service: the started service answers /health, survives a malformed request, stops on SIGTERM", {
    timeout: 60_000,
  }, async () => {
    const { service, port, health } = await startService(dir);
    expect(health, service.output()).toEqual({ status: "ok", env: "test" });

    const answer = await rawRequest(port, "this is not http\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const badTarget = await rawRequest(
      port,
      "GET http://[::1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    expect(badTarget).toMatch(/^HTTP\/1\.1 400 /);
    const after = await fetch(`http://127.0.0.1:${port}/health`);
    expect(after.status, service.output()).toBe(200);

    const home = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(home).toContain("Says &quot;sunny&quot; &lt;b&gt;&amp; more&lt;/b&gt;");
    expect(home).not.toContain("<b>");

    expect(await stop(service.child), service.output()).toBe(0);
    // Logs are JSON lines (pino).
    expect(service.output()).toMatch(/^\{"level":30,.*"msg":"shutting down"/m);
  });

  it("web-service: data stored through the API survives a restart as a pruned release on the same DATA_DIR", {
    timeout: 120_000,
  }, async () => {
    if (!manifest) throw new Error("the template was not rendered");
    const first = await startService(dir);
    expect(first.health, first.service.output()).toEqual({ status: "ok", env: "test" });
    const created = await fetch(`http://127.0.0.1:${first.port}/api/notes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "kept across restarts" }),
    });
    expect(created.status).toBe(201);
    const note = (await created.json()) as { id: string; text: string };
    expect(await stop(first.service.child), first.service.output()).toBe(0);
    expect((await stat(join(dataDir, "notes.json"))).isFile()).toBe(true);

    // The release as the deploy makes it: devDependencies pruned, sources and tests left out.
    const release = join(root, "release");
    await cp(dir, release, { recursive: true });
    await trimAsRelease(manifest, release);

    const second = await startService(release);
    expect(second.health, second.service.output()).toEqual({ status: "ok", env: "test" });
    const read = await fetch(`http://127.0.0.1:${second.port}/api/notes/${note.id}`);
    expect(read.status, second.service.output()).toBe(200);
    expect(await read.json()).toEqual(note);
    const css = await fetch(`http://127.0.0.1:${second.port}/static/style.css`);
    expect(css.status).toBe(200);
    expect(await stop(second.service.child), second.service.output()).toBe(0);
  });
});
