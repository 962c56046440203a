import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import { builtWebApp } from "../../test/support/web-app.js";
import { registerWebApp } from "./routes/web-app.js";

let h: ApiHarness;
let webRoot: string;

beforeAll(async () => {
  webRoot = await builtWebApp();
  h = await startApiHarness();
  await h.api.ready();
}, 180_000);
afterAll(async () => h?.close());

/** The hashed files index.html loads (Vite writes them under /assets/). */
function assetsOf(page: string): { script: string; style: string } {
  const script = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(page)?.[1];
  const style = /<link[^>]+href="(\/assets\/[^"]+\.css)"/.exec(page)?.[1];
  if (!script || !style) throw new Error(`index.html loads no script or style: ${page}`);
  return { script, style };
}

describe("web app", () => {
  it("serves index.html at / to anyone, never cached, locked to its own origin", async () => {
    const page = await h.api.inject({ method: "GET", url: "/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["cache-control"]).toBe("no-store");
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.body).toBe(await readFile(join(webRoot, "index.html"), "utf8"));
    expect(page.body).toContain('<div id="root">');
  });

  it("serves the hashed assets with their content type and a year-long immutable cache", async () => {
    const { script, style } = assetsOf((await h.api.inject({ method: "GET", url: "/" })).body);
    for (const [url, type] of [
      [script, /^(text|application)\/javascript/],
      [style, /^text\/css/],
    ] as const) {
      const asset = await h.api.inject({ method: "GET", url });
      expect(asset.statusCode, url).toBe(200);
      expect(asset.headers["content-type"], url).toMatch(type);
      expect(asset.headers["cache-control"], url).toBe("public, max-age=31536000, immutable");
      expect(asset.body, url).toBe(await readFile(join(webRoot, url), "utf8"));
    }
    const head = await h.api.inject({ method: "HEAD", url: script });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe("");
  });

  it("answers a missing asset with an uncached plain 404 and serves nothing outside its folder", async () => {
    const missing = await h.api.inject({ method: "GET", url: "/assets/index-gone.js" });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["content-type"]).toMatch(/^text\/plain/);
    expect(missing.headers["cache-control"]).toBeUndefined();
    for (const url of [
      "/assets/../index.html",
      "/assets/%2e%2e/index.html",
      "/assets/..%2f..%2fpackage.json",
    ]) {
      const outside = await h.api.inject({ method: "GET", url });
      expect(outside.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(outside.body, url).not.toContain("codegen-orchestrator");
      expect(outside.body, url).not.toContain('<div id="root">');
    }
  });

  it("leaves the API's own paths as they were", async () => {
    const admin = { authorization: `Bearer ${h.adminToken}` };
    const anonymous = await h.api.inject({ method: "GET", url: "/api/nothing" });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe("unauthorized");
    const unknown = await h.api.inject({ method: "GET", url: "/api/nothing", headers: admin });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("route_not_found");
    // Only GET and HEAD of / are the page: another method is an unknown route, as before.
    expect((await h.api.inject({ method: "POST", url: "/" })).statusCode).toBe(401);
    expect((await h.api.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
    expect((await h.api.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(401);
    const openapi = await h.api.inject({ method: "GET", url: "/api/openapi.json", headers: admin });
    expect(Object.keys(openapi.json().paths)).not.toContain("/");
  });

  it("says how to build the app when it was not built, without failing", async () => {
    const app = Fastify();
    await registerWebApp(app, { root: join(tmpdir(), `no-web-app-${process.pid}`) });
    try {
      const page = await app.inject({ method: "GET", url: "/" });
      expect(page.statusCode).toBe(200);
      expect(page.headers["content-type"]).toBe("text/plain; charset=utf-8");
      expect(page.body).toContain("npm run build");
      expect((await app.inject({ method: "GET", url: "/assets/index.js" })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});
