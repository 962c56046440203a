/**
 * Renders the web-service template and runs its manifest's own commands for real (npm install reaches the
 * npm registry), then starts it as the local deploy driver would.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram } from "../../test/fakes/telegram/index.js";
import { freePort } from "../../test/support/ports.js";
import { childEnv, installTestBuild, start, stop } from "../../test/support/template-project.js";
import { renderTemplate } from "./index.js";

describe("web-service template, installed, tested and started for real", () => {
  let root = "";
  const running: ChildProcess[] = [];
  const variables = { projectName: "Weather Service", slug: "weather-service", description: 'Says "sunny"' };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "template-web-service-"));
  });
  afterAll(async () => {
    await Promise.all(running.map(stop));
    await rm(root, { recursive: true, force: true });
  });

  it("web-service: its own tests pass and the started service answers its health path", {
    timeout: 240_000,
  }, async () => {
    const dir = join(root, "web-service");
    const manifest = await renderTemplate({ template: "web-service", into: dir, variables });
    await installTestBuild(manifest, dir);
    if (manifest.healthCheck.kind !== "http") throw new Error("web-service must have an http health check");

    const port = await freePort();
    const service = start(manifest.commands.start, dir, childEnv({ PORT: String(port), APP_ENV: "test" }));
    running.push(service.child);
    const url = `http://127.0.0.1:${port}${manifest.healthCheck.path}`;
    let body: unknown;
    // Bounded wait for the service to listen (the deploy health gate does the same, harder).
    for (let attempt = 0; attempt < 100 && body === undefined; attempt++) {
      body = await fetch(url)
        .then((res) => (res.ok ? res.json() : undefined))
        .catch(() => undefined);
      if (body === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(body, service.output()).toEqual({ status: "ok", env: "test" });
    expect(await stop(service.child), service.output()).toBe(0);
  });
});
