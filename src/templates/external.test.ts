import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchExternalTemplate, getTemplate, renderTemplate } from "./index.js";

/** A bare repository made in the test: v1 (tagged) has a good manifest, the next commit a bad one. */
describe("fetchExternalTemplate", () => {
  let dir = "";
  let url = "";
  let goodSha = "";
  let badSha = "";
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      env: {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@example.com",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@example.com",
      },
    }).trim();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "external-template-test-"));
    const work = join(dir, "work");
    const bare = join(dir, "remote.git");
    git(dir, "init", "--quiet", "--initial-branch=main", work);
    const manifest = {
      ...(await getTemplate("web-service")).manifest,
      name: "acme-service",
      version: "2.0.0",
    };
    await writeFile(join(work, "orchestrator.json"), JSON.stringify(manifest));
    await writeFile(join(work, "README.md"), "# {{projectName}}\n");
    git(work, "add", ".");
    git(work, "commit", "--quiet", "-m", "v2");
    git(work, "tag", "v2.0.0");
    goodSha = git(work, "rev-parse", "HEAD");
    await writeFile(join(work, "orchestrator.json"), JSON.stringify({ ...manifest, version: "later" }));
    git(work, "commit", "--quiet", "-am", "broken");
    badSha = git(work, "rev-parse", "HEAD");
    git(dir, "clone", "--quiet", "--bare", work, bare);
    url = `file://${bare}`;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("checks out a tag, validates the manifest and renders from it", async () => {
    const template = await fetchExternalTemplate({ url, ref: "v2.0.0" });
    try {
      expect(template).toMatchObject({ name: "acme-service", version: "2.0.0", commit: goodSha });
      expect(template.origin).toEqual({ kind: "external", url, ref: "v2.0.0", commit: goodSha });
      const into = join(dir, "rendered");
      await renderTemplate({
        template,
        version: "2.0.0",
        into,
        variables: { projectName: "Acme", slug: "acme", description: "" },
      });
      expect(await readFile(join(into, "README.md"), "utf8")).toBe("# Acme\n");
      expect(existsSync(join(into, ".git"))).toBe(false);
    } finally {
      await template.cleanup();
    }
    expect(existsSync(template.dir)).toBe(false);
  });

  it("checks out a full commit SHA", async () => {
    const template = await fetchExternalTemplate({ url, ref: goodSha });
    await template.cleanup();
    expect(template.commit).toBe(goodSha);
  });

  it("refuses a branch, an unknown SHA, a short SHA and a bad manifest with clear codes", async () => {
    await expect(fetchExternalTemplate({ url, ref: "main" })).rejects.toMatchObject({
      code: "template_ref_not_pinned",
      details: [{ path: "ref" }],
    });
    await expect(fetchExternalTemplate({ url, ref: "0".repeat(40) })).rejects.toMatchObject({
      code: "template_ref_not_pinned",
    });
    await expect(fetchExternalTemplate({ url, ref: goodSha.slice(0, 12) })).rejects.toMatchObject({
      code: "template_ref_not_pinned",
    });
    await expect(fetchExternalTemplate({ url, ref: badSha })).rejects.toMatchObject({
      code: "template_manifest_invalid",
      details: [{ path: "version" }],
    });
  });

  it("refuses URLs outside the allowed transports and unreachable repositories", async () => {
    await expect(
      fetchExternalTemplate({ url: "ext::sh -c touch% /tmp/pwned", ref: "v1" }),
    ).rejects.toMatchObject({
      code: "invalid_input",
      details: [{ path: "url" }],
    });
    await expect(
      fetchExternalTemplate({ url: `file://${dir}/missing.git`, ref: "v1" }),
    ).rejects.toMatchObject({
      kind: "unavailable",
      code: "git_failed",
    });
  });
});
