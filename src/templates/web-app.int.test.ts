/**
 * Renders the web-app template and runs its manifest's own commands for real (npm install reaches the
 * npm registry), then starts it as the local deploy driver would: a form posted from the outside is
 * still listed after a restart on the same DATA_DIR, the second start from a release trimmed as the
 * manifest's release spec says.
 */
import type { ChildProcess } from "node:child_process";
import { access, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  installTestBuild,
  type Started,
  startHttp,
  stop,
  trimAsRelease,
} from "../../test/support/template-project.js";
import type { TemplateManifest } from "../contracts/index.js";
import { renderTemplate } from "./index.js";

/** Starts the built site with `dataDir`, as the deploy would; asserts /health answered. */
async function startSite(
  manifest: TemplateManifest,
  dir: string,
  dataDir: string,
): Promise<{ site: Started; base: string }> {
  const { started, base, health } = await startHttp(manifest, dir, {
    APP_ENV: "production",
    DATA_DIR: dataDir,
  });
  expect(health, started.output()).toBeDefined();
  return { site: started, base };
}

describe("web-app template, installed, tested and started for real", () => {
  let root = "";
  const running: ChildProcess[] = [];
  const variables = {
    projectName: 'Bakery "Crumbs" <b>',
    slug: "bakery-crumbs",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: literal ${...} text is the point here
    description: "Fresh `bread` & ${cakes}",
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "template-web-app-"));
  });
  afterAll(async () => {
    await Promise.all(running.map(stop));
    await rm(root, { recursive: true, force: true });
  });

  it("web-app: its own tests pass, a posted form is listed after a restart on the same DATA_DIR", {
    timeout: 300_000,
  }, async () => {
    const dir = join(root, "web-app");
    const dataDir = join(root, "data");
    await mkdir(dataDir);
    const manifest = await renderTemplate({ template: "web-app", version: "1.0.0", into: dir, variables });
    expect(manifest.healthCheck).toEqual({ kind: "http", path: "/health" });
    expect(manifest.env.map((e) => [e.name, e.kind, e.required])).toEqual([
      ["PORT", "allocated-port", true],
      ["APP_ENV", "computed", false],
      ["PUBLIC_URL", "computed", false],
      ["DATA_DIR", "computed", true],
    ]);
    expect(manifest.env.find((e) => e.name === "DATA_DIR")?.computed).toBe("DATA_DIR");
    expect(manifest.conventions).toBe("CONVENTIONS.md");
    expect(await readFile(join(dir, "CONVENTIONS.md"), "utf8")).toMatch(/^## /);
    expect(manifest.acceptance?.test).toEqual(["node", "test/acceptance/run.mjs"]);
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
    expect([pkg.name, pkg.description]).toEqual([variables.slug, variables.description]);
    const lock = JSON.parse(await readFile(join(dir, "package-lock.json"), "utf8")) as { name: string };
    expect(lock.name).toBe(variables.slug);
    expect(await readFile(join(dir, ".gitignore"), "utf8")).toMatch(/^\/data$/m);

    const tests = await installTestBuild(manifest, dir);
    expect(tests).toMatch(/HTML escaping|escaped/);

    const first = await startSite(manifest, dir, dataDir);
    running.push(first.site.child);
    const home = await fetch(`${first.base}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get("content-type")).toMatch(/^text\/html/);
    const homeText = await home.text();
    expect(homeText).toContain("Bakery &quot;Crumbs&quot; &lt;b&gt;");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: literal ${...} text is the point here
    expect(homeText).toContain("Fresh `bread` &amp; ${cakes}");
    const css = await fetch(`${first.base}/style.css`);
    expect([css.status, css.headers.get("content-type")]).toEqual([200, expect.stringMatching(/^text\/css/)]);

    const posted = await fetch(`${first.base}/contact`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        name: "Ada <script>",
        email: "ada@example.com",
        message: "Two loaves, please",
      }).toString(),
      redirect: "manual",
    });
    expect(posted.status, first.site.output()).toBe(303);
    expect(posted.headers.get("location")).toBe("/contact/thanks");
    expect(await stop(first.site.child), first.site.output()).toBe(0);

    // The second start runs from the release as the deploy trims it: dev dependencies pruned and
    // the excluded paths removed; start must not need any of them.
    await trimAsRelease(manifest, dir);
    await expect(access(join(dir, "node_modules", "typescript"))).rejects.toThrow();

    const second = await startSite(manifest, dir, dataDir);
    running.push(second.site.child);
    const list = await fetch(`${second.base}/messages`);
    expect(list.status).toBe(200);
    const listText = await list.text();
    expect(listText, second.site.output()).toContain("Two loaves, please");
    expect(listText).toContain("Ada &lt;script&gt;");
    expect(listText).not.toContain("<script>");
    expect(await stop(second.site.child), second.site.output()).toBe(0);
  });
});
