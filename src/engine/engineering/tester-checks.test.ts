import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseNameStatus } from "./acceptance.js";
import { checkManifest, type GitRunner, inspectCommit, isDocumentation } from "./tester-checks.js";

const run = promisify(execFile);
let dir = "";
let prepared = "";
let template = "";

const git: GitRunner = async (args) => {
  try {
    const out = await run("git", args, { cwd: dir });
    return { exitCode: 0, stdout: out.stdout, stderr: out.stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { exitCode: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
};
const ok = async (args: string[]) => (await run("git", args, { cwd: dir })).stdout.trim();

async function write(files: Record<string, string>) {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** A commit on top of `base` with `files` written and `removed` deleted; returns its SHA. */
async function commitOn(
  base: string,
  files: Record<string, string>,
  removed: string[] = [],
): Promise<string> {
  await ok(["checkout", "--quiet", "--detach", base]);
  await write(files);
  for (const path of removed) await ok(["rm", "--quiet", path]);
  await ok(["add", "-A"]);
  await ok(["commit", "--quiet", "--allow-empty", "-m", "change"]);
  return ok(["rev-parse", "HEAD"]);
}

const inspect = (commit: string, base = prepared) =>
  inspectCommit(git, { prepared: base, commit, acceptanceDir: "test/acceptance" });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tester-checks-"));
  await ok(["init", "--quiet", "--initial-branch=main"]);
  await ok(["config", "user.name", "t"]);
  await ok(["config", "user.email", "t@localhost"]);
  await write({ "src/app.ts": "export {};\n", "README.md": "# app\n" });
  await ok(["add", "-A"]);
  await ok(["commit", "--quiet", "-m", "template"]);
  template = await ok(["rev-parse", "HEAD"]);
  prepared = await commitOn(template, {
    "SPEC.md": "spec\n",
    "test/acceptance/time.test.ts": "time\n",
    "test/acceptance/harness.ts": "harness\n",
  });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("inspectCommit", () => {
  it("passes a commit that descends from the prepared one and changes code", async () => {
    const commit = await commitOn(prepared, {
      "src/time.ts": "export const t = 1;\n",
      "README.md": "# more\n",
    });
    expect(await inspect(commit)).toEqual({ reason: null, message: null, changedAcceptance: [] });
  });

  it("reds the prepared commit itself, and a descendant that changes nothing", async () => {
    expect(await inspect(prepared)).toMatchObject({
      reason: "no_change",
      message: "the reported commit is the prepared commit: nothing was implemented",
    });
    const empty = await commitOn(prepared, {});
    expect((await inspect(empty)).reason).toBe("no_change");
  });

  it("reds a commit that does not descend from the prepared one (an older or a side commit)", async () => {
    expect((await inspect(template)).reason).toBe("not_descendant");
    const side = await commitOn(template, { "src/time.ts": "export const t = 1;\n" });
    const inspection = await inspect(side);
    expect(inspection.reason).toBe("not_descendant");
    expect(inspection.message).toContain(prepared);
  });

  it("reds a commit that changes only documentation", async () => {
    const docs = await commitOn(prepared, {
      "README.md": "# done\n",
      "docs/guide.txt": "x\n",
      LICENSE: "MIT\n",
      "notes/CHANGELOG": "1\n",
    });
    const inspection = await inspect(docs);
    expect(inspection.reason).toBe("docs_only");
    expect(inspection.message).toContain("README.md");
  });

  it("reds a commit that deletes, edits or adds an acceptance test, naming each file", async () => {
    const deleted = await commitOn(prepared, { "src/time.ts": "x\n" }, ["test/acceptance/time.test.ts"]);
    expect(await inspect(deleted)).toEqual({
      reason: "acceptance_changed",
      message: "acceptance tests changed: test/acceptance/time.test.ts (deleted)",
      changedAcceptance: ["test/acceptance/time.test.ts (deleted)"],
    });
    const edited = await commitOn(prepared, {
      "test/acceptance/harness.ts": "weaker\n",
      "test/acceptance/extra.test.ts": "x\n",
    });
    expect((await inspect(edited)).changedAcceptance).toEqual([
      "test/acceptance/extra.test.ts (added)",
      "test/acceptance/harness.ts (changed)",
    ]);
    // A file beside the folder with a similar name is not in it.
    const beside = await commitOn(prepared, { "test/acceptance-notes.ts": "x\n" });
    expect((await inspect(beside)).reason).toBeNull();
  });

  it("measures against the latest acceptance revision once there is one", async () => {
    const revision = await commitOn(prepared, { "test/acceptance/time.test.ts": "fixed\n" });
    const work = await commitOn(revision, { "src/time.ts": "x\n" });
    expect((await inspect(work, revision)).reason).toBeNull();
    const stale = await commitOn(prepared, { "src/time.ts": "x\n" });
    expect((await inspect(stale, revision)).reason).toBe("not_descendant");
  });
});

describe("isDocumentation", () => {
  it("knows documentation from code", () => {
    for (const path of [
      "README.md",
      "docs/api.yaml",
      "doc/x.png",
      "LICENSE",
      "COPYING.txt",
      "a/CHANGELOG.md",
    ]) {
      expect(isDocumentation(path), path).toBe(true);
    }
    for (const path of ["src/app.ts", "package.json", "orchestrator.json", "Dockerfile", "src/docs.ts"]) {
      expect(isDocumentation(path), path).toBe(false);
    }
  });
});

describe("parseNameStatus", () => {
  it("reads added, modified, deleted and type-changed paths", () => {
    expect(parseNameStatus("A\ta b.ts\nM\tsrc/x.ts\nD\told.ts\nT\tlink\n\n")).toEqual([
      { status: "A", path: "a b.ts" },
      { status: "M", path: "src/x.ts" },
      { status: "D", path: "old.ts" },
      { status: "T", path: "link" },
    ]);
  });
});

describe("the commit's manifest", () => {
  const valid = {
    name: "web-service",
    version: "2.0.0",
    language: "typescript",
    description: "A service.",
    commands: { install: ["npm", "install"], test: ["npm", "test"], start: ["node", "main.js"] },
    healthCheck: { kind: "http", path: "/health" },
    resources: { cpus: 0.5, memoryMb: 256, diskMb: 512 },
    env: [{ name: "PORT", kind: "allocated-port", required: true, description: "port" }],
  };
  const commit = "0123456789abcdef0123456789abcdef01234567";

  it("passes a valid one and names what is wrong with a broken one", () => {
    expect(checkManifest(JSON.stringify(valid), commit)).toBeNull();
    expect(checkManifest("", commit)).toBe(
      "orchestrator.json at 0123456789ab is missing or empty: the deploy reads it, restore it",
    );
    expect(checkManifest("{ not json", commit)).toMatch(/^orchestrator.json at 0123456789ab is not JSON: /);
    const noPort = { ...valid, env: [], commands: { ...valid.commands, start: [] } };
    const problem = checkManifest(JSON.stringify(noPort), commit) ?? "";
    expect(problem).toContain("- commands.start: a command needs a program");
    expect(problem).toContain("- healthCheck: an http health check needs an allocated-port variable");
  });
});
