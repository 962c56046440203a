import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeGithub, startFakeGithub } from "../../../test/fakes/github/index.js";
import { EnvEntry, TemplateManifest } from "../../contracts/index.js";
import { ciSecretNames, writeCiSecrets } from "./ci-secrets.js";
import { GithubForge } from "./github-forge.js";

const TOKEN = "ghp_ci_secrets_token";

/** A web-service manifest with the given extra variables. */
function manifest(env: unknown[]): TemplateManifest {
  return TemplateManifest.parse({
    name: "web-service",
    version: "1.0.0",
    language: "typescript",
    description: "A web service",
    commands: { install: ["npm", "ci"], test: ["npm", "test"], start: ["node", "dist/main.js"] },
    healthCheck: { kind: "http", path: "/health" },
    resources: { cpus: 0.5, memoryMb: 256, diskMb: 512 },
    env: [{ name: "PORT", kind: "allocated-port", required: true, description: "HTTP port" }, ...env],
  });
}

describe("the `ci` flag of a manifest variable", () => {
  it("is taken on secrets only, and not under GitHub's reserved names", () => {
    const base = { required: true, description: "d" };
    expect(EnvEntry.safeParse({ ...base, name: "DEPLOY_KEY", kind: "user-secret", ci: true }).success).toBe(
      true,
    );
    expect(EnvEntry.safeParse({ ...base, name: "DB_PASS", kind: "generated-secret", ci: true }).success).toBe(
      true,
    );
    const literal = EnvEntry.safeParse({ ...base, name: "MODE", kind: "literal", value: "x", ci: true });
    expect(literal.error?.issues[0]).toMatchObject({ path: ["ci"] });
    const reserved = EnvEntry.safeParse({ ...base, name: "GITHUB_KEY", kind: "user-secret", ci: true });
    expect(reserved.error?.issues[0]).toMatchObject({ path: ["name"] });
    expect(EnvEntry.safeParse({ ...base, name: "GITHUB_KEY", kind: "user-secret" }).success).toBe(true);
  });
});

describe("writeCiSecrets", () => {
  let fake: FakeGithub;
  let forge: GithubForge;
  beforeEach(async () => {
    fake = await startFakeGithub({ token: TOKEN });
    forge = new GithubForge({
      token: TOKEN,
      owner: { kind: "user", login: "octo-user" },
      apiBaseUrl: fake.url,
      gitBaseUrl: fake.url,
      workerBaseUrl: "http://127.0.0.1:1",
    });
  });
  afterEach(async () => {
    await fake.close();
  });

  it("seals each filled `ci: true` secret as an Actions secret and names the ones still empty", async () => {
    const m = manifest([
      { name: "DEPLOY_KEY", kind: "user-secret", required: true, description: "d", ci: true },
      { name: "DB_PASS", kind: "generated-secret", required: true, description: "d", ci: true },
      { name: "BOT_TOKEN", kind: "user-secret", required: true, description: "d" },
    ]);
    expect(ciSecretNames(m)).toEqual(["DEPLOY_KEY", "DB_PASS"]);
    const repo = await forge.createRepository({ projectId: "p1", slug: "ci-app" });
    const values: Record<string, string> = { DEPLOY_KEY: "key-value-1", BOT_TOKEN: "never-to-ci" };
    const asked: string[] = [];
    const outcome = await writeCiSecrets(forge, { name: "ci-app" }, m, async (name) => {
      asked.push(name);
      return values[name] ?? null;
    });
    expect(outcome).toEqual({ written: ["DEPLOY_KEY"], missing: ["DB_PASS"] });
    expect(asked).toEqual(["DEPLOY_KEY", "DB_PASS"]);
    expect(fake.secretNames(repo.name)).toEqual(["DEPLOY_KEY"]);
    expect(await fake.secret(repo.name, "DEPLOY_KEY")).toBe("key-value-1");
    expect(fake.sealedSecret(repo.name, "DEPLOY_KEY")?.encrypted_value).not.toContain("key-value-1");
    // The repository holds no commit at all: nothing was written as a file.
    expect(await forge.listCommits(repo, { limit: 1 })).toEqual([]);
  });
});
