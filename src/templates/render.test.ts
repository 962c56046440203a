import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError, TEMPLATE_MANIFEST_FILE } from "../contracts/index.js";
import {
  getTemplate,
  listTemplates,
  readManifest,
  renderTemplate,
  substitute,
  type TemplateSource,
} from "./index.js";

const variables = {
  projectName: 'Weather "Now"',
  slug: "weather-now",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: literal ${...} text is the point here
  description: "Says the `weather` ${today}",
};

describe("built-in templates", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "render-test-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("lists telegram-bot, web-app and web-service with valid manifests, each with its conventions", async () => {
    const templates = await listTemplates();
    expect(templates.map((t) => [t.name, t.manifest.healthCheck.kind])).toEqual([
      ["telegram-bot", "telegram"],
      ["web-app", "http"],
      ["web-service", "http"],
    ]);
    for (const { name, dir, manifest } of templates) {
      expect(manifest.conventions, name).toBe("CONVENTIONS.md");
      expect(await readFile(join(dir, "CONVENTIONS.md"), "utf8"), name).toMatch(/^## /m);
      expect(
        manifest.env.find((e) => e.name === "DATA_DIR"),
        name,
      ).toMatchObject({
        kind: "computed",
        computed: "DATA_DIR",
      });
      expect(manifest.release?.prune, name).toEqual(["npm", "prune", "--omit=dev"]);
    }
  });

  it("refuses an unknown template or a version it does not ship", async () => {
    await expect(getTemplate("nope")).rejects.toMatchObject({
      code: "template_not_found",
      kind: "not_found",
    });
    await expect(getTemplate("../web-service")).rejects.toMatchObject({ code: "template_not_found" });
    await expect(
      renderTemplate({ template: "web-service", version: "9.9.9", into: dir, variables }),
    ).rejects.toMatchObject({ code: "template_version_not_found" });
  });

  it("renders telegram-bot with placeholders substituted and escaped per file type", async () => {
    const into = join(dir, "bot");
    const manifest = await renderTemplate({ template: "telegram-bot", version: "2.0.0", into, variables });
    expect(manifest.env.map((e) => [e.name, e.kind, e.required])).toEqual([
      ["TELEGRAM_BOT_TOKEN", "user-secret", true],
      ["TELEGRAM_API_ROOT", "computed", false],
      ["DATA_DIR", "computed", true],
    ]);
    expect(await readManifest(into)).toEqual(manifest);
    const pkg = JSON.parse(await readFile(join(into, "package.json"), "utf8")) as Record<string, unknown>;
    expect(pkg.name).toBe("weather-now");
    expect(pkg.description).toBe(variables.description);
    expect(await readFile(join(into, "README.md"), "utf8")).toContain('# Weather "Now"');
    const start = await readFile(join(into, "src", "features", "start.ts"), "utf8");
    expect(start).toContain('I am Weather \\"Now\\"');
    const help = await readFile(join(into, "src", "features", "help.ts"), "utf8");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: literal ${...} text is the point here
    expect(help).toContain("Says the \\`weather\\` \\${today}");
    expect(await readFile(join(into, ".gitignore"), "utf8")).toContain("node_modules");
  });

  it("renders web-service with its manifest and no placeholders left", async () => {
    const into = join(dir, "svc");
    const manifest = await renderTemplate({ template: "web-service", into, variables });
    expect(manifest.healthCheck).toEqual({ kind: "http", path: "/health" });
    expect(manifest.env.find((e) => e.kind === "allocated-port")?.name).toBe("PORT");
    expect(manifest.acceptance).toMatchObject({
      dir: "test/acceptance",
      test: ["node", "test/acceptance/run.mjs"],
    });
    for (const file of ["harness.ts", "health.test.ts", "run.mjs"]) {
      expect(await readFile(join(into, "test/acceptance", file), "utf8"), file).not.toBe("");
    }
    for (const file of [
      "package.json",
      "package-lock.json",
      "README.md",
      "src/routes/api.ts",
      "src/main.ts",
    ]) {
      expect(await readFile(join(into, file), "utf8"), file).not.toMatch(
        /\{\{(projectName|slug|description)\}\}/,
      );
    }
  });

  it("refuses to render into a folder that is not empty", async () => {
    await writeFile(join(dir, "keep.txt"), "x");
    const error = await renderTemplate({ template: "web-service", into: dir, variables }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ kind: "conflict", code: "render_target_not_empty" });
  });

  it("validates the variables", async () => {
    await expect(
      renderTemplate({ template: "web-service", into: dir, variables: { ...variables, slug: "Not A Slug" } }),
    ).rejects.toMatchObject({ code: "invalid_input", details: [{ path: "slug" }] });
  });
});

describe("rendering a template folder", () => {
  let dir = "";
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("copies binary files and symlinks untouched, keeps modes, skips .git and node_modules", async () => {
    dir = await mkdtemp(join(tmpdir(), "render-test-"));
    const src = join(dir, "src");
    await mkdir(join(src, ".git"), { recursive: true });
    await mkdir(join(src, "node_modules"), { recursive: true });
    await mkdir(join(src, "bin"), { recursive: true });
    const binary = Buffer.from([0x89, 0x50, 0x00, 0x7b, 0x7b, 0x73, 0x6c, 0x75, 0x67, 0x7d, 0x7d]);
    await writeFile(join(src, "logo.png"), binary);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: literal ${...} text is the point here
    await writeFile(join(src, "bin", "run.sh"), "#!/bin/sh\necho {{slug}} ${{ secrets.X }}\n", {
      mode: 0o755,
    });
    await symlink("/etc/hostname", join(src, "link"));
    await writeFile(join(src, ".git", "HEAD"), "x");
    await writeFile(join(src, TEMPLATE_MANIFEST_FILE), "ignored: the source's manifest object is written");
    const source: TemplateSource = {
      ...(await getTemplate("web-service")),
      dir: src,
    };
    const into = join(dir, "out");
    await renderTemplate({ template: source, into, variables });
    expect(await readFile(join(into, "logo.png"))).toEqual(binary);
    expect(await readFile(join(into, "bin", "run.sh"), "utf8")).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: literal ${...} text is the point here
      "#!/bin/sh\necho weather-now ${{ secrets.X }}\n",
    );
    expect((await stat(join(into, "bin", "run.sh"))).mode & 0o777).toBe(0o755);
    await expect(stat(join(into, ".git"))).rejects.toThrow();
    await expect(stat(join(into, "node_modules"))).rejects.toThrow();
    expect((await readManifest(into)).name).toBe("web-service");
  });

  it("substitutes only the known placeholders", () => {
    expect(substitute("{{slug}} {{other}} {{ slug }}", variables)).toBe("weather-now {{other}} {{ slug }}");
  });
});
