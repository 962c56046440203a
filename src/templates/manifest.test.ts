import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AppError, TemplateManifest, type TemplateManifestInput } from "../contracts/index.js";
import { readManifest } from "./index.js";

const good: TemplateManifestInput = {
  name: "web-thing",
  version: "1.2.3",
  language: "typescript",
  description: "a service",
  commands: { install: ["npm", "ci"], test: ["npm", "test"], start: ["node", "main.js"] },
  healthCheck: { kind: "http", path: "/health" },
  resources: { cpus: 0.5, memoryMb: 256, diskMb: 512 },
  env: [
    { name: "PORT", kind: "allocated-port", required: true, description: "port" },
    { name: "APP_ENV", kind: "computed", computed: "APP_ENV", required: false, description: "env" },
    { name: "LOG_LEVEL", kind: "literal", value: "info", required: false, description: "log level" },
    { name: "SESSION_KEY", kind: "generated-secret", required: true, description: "cookie key" },
  ],
};

function paths(input: unknown): string[] {
  const result = TemplateManifest.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((i) => i.path.join(".")).sort();
}

describe("TemplateManifest", () => {
  it("accepts a complete manifest and fills the telegram token variable", () => {
    expect(paths(good)).toEqual([]);
    const bot = TemplateManifest.parse({
      ...good,
      healthCheck: { kind: "telegram" },
      env: [{ name: "TELEGRAM_BOT_TOKEN", kind: "user-secret", required: true, description: "token" }],
    });
    expect(bot.healthCheck).toEqual({ kind: "telegram", tokenVariable: "TELEGRAM_BOT_TOKEN" });
  });

  it("names each bad field by its path", () => {
    expect(
      paths({
        ...good,
        name: "Bad Name",
        version: "v1",
        commands: { install: [], test: ["npm", ""], start: ["node"] },
        resources: { cpus: 0, memoryMb: 1.5, diskMb: 512 },
      }),
    ).toEqual([
      "commands.install",
      "commands.test.1",
      "name",
      "resources.cpus",
      "resources.memoryMb",
      "version",
    ]);
  });

  it("validates environment entries: names, literal values, computed sources, duplicates", () => {
    const env = [
      { name: "port", kind: "allocated-port", required: true, description: "lower case" },
      { name: "A", kind: "literal", required: true, description: "no value" },
      { name: "B", kind: "user-secret", value: "x", required: true, description: "secret with value" },
      { name: "C", kind: "computed", required: true, description: "computes nothing" },
      { name: "D", kind: "computed", computed: "NOT_KNOWN", required: true, description: "bad source" },
      { name: "E", kind: "magic", required: true, description: "bad kind" },
    ];
    expect(paths({ ...good, env })).toEqual([
      "env.0.name",
      "env.1.value",
      "env.2.value",
      "env.3.computed",
      "env.4.computed",
      "env.5.kind",
    ]);
  });

  it("refuses a variable declared twice (checked once the entries themselves are valid)", () => {
    const port = good.env[0];
    expect(paths({ ...good, env: [port, { ...port, kind: "literal", value: "1" }] })).toEqual(["env.1.name"]);
  });

  it("ties the health check to the environment and rejects unknown keys", () => {
    expect(paths({ ...good, env: [] })).toEqual(["healthCheck"]);
    expect(paths({ ...good, healthCheck: { kind: "telegram" } })).toEqual(["healthCheck.tokenVariable"]);
    expect(paths({ ...good, healthCheck: { kind: "http", path: "health" } })).toEqual(["healthCheck.path"]);
    expect(paths({ ...good, extra: true })).toEqual([""]);
  });

  it("declares where acceptance tests live, how to run them alone, and how to write one", () => {
    const acceptance = {
      dir: "test/acceptance",
      test: ["node", "test/acceptance/run.mjs"],
      guide: "node:test files",
    };
    expect(TemplateManifest.parse({ ...good, acceptance }).acceptance).toEqual(acceptance);
    expect(TemplateManifest.parse(good).acceptance).toBeUndefined();
    for (const dir of ["/abs", "../up", "test/../x", "a//b", "test/", ".git", "a/./b", "", "a b"]) {
      expect(paths({ ...good, acceptance: { ...acceptance, dir } }), dir).toEqual(["acceptance.dir"]);
    }
    expect(paths({ ...good, acceptance: { ...acceptance, test: [] } })).toEqual(["acceptance.test"]);
    expect(paths({ ...good, acceptance: { ...acceptance, guide: "" } })).toEqual(["acceptance.guide"]);
    expect(paths({ ...good, acceptance: { dir: "t", test: ["x"], guide: "g", shell: "sh" } })).toEqual([
      "acceptance",
    ]);
  });
});

describe("readManifest", () => {
  const dirs: string[] = [];
  const freshDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), "manifest-test-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function errorFor(text: string | undefined): Promise<AppError> {
    const dir = await freshDir();
    if (text !== undefined) await writeFile(join(dir, "orchestrator.json"), text);
    const error = await readManifest(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }

  it("says which file is missing or not JSON", async () => {
    expect((await errorFor(undefined)).code).toBe("template_manifest_missing");
    expect((await errorFor("{ nope")).code).toBe("template_manifest_invalid_json");
  });

  it("lists every bad field with its path in the error", async () => {
    const error = await errorFor(
      JSON.stringify({ ...good, version: "one", env: [{ ...good.env[0], name: "x" }] }),
    );
    expect(error.kind).toBe("invalid");
    expect(error.code).toBe("template_manifest_invalid");
    expect(error.details.map((d) => d.path).sort()).toEqual(["env.0.name", "version"]);
    expect(error.message).toContain("orchestrator.json");
    expect(error.message).toContain("env.0.name: upper snake case");
  });

  it("returns the parsed manifest of a good file", async () => {
    const dir = await freshDir();
    await writeFile(join(dir, "orchestrator.json"), JSON.stringify(good));
    expect((await readManifest(dir)).name).toBe("web-thing");
  });
});
