import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeGithub, startFakeGithub } from "../../test/fakes/github/index.js";
import { ConfigError, loadConfig } from "../config/index.js";
import { GithubForge, LocalForge } from "../git/index.js";
import { buildForge } from "./forge.js";

const TOKEN = "ghp_build_forge_token";
let fake: FakeGithub;
beforeAll(async () => {
  fake = await startFakeGithub({ token: TOKEN, userLogin: "octo-user", orgs: ["acme"] });
});
afterAll(async () => {
  await fake.close();
});

const github = (env: Record<string, string>) =>
  loadConfig(
    { FORGE: "github", GITHUB_TOKEN: TOKEN, GITHUB_OWNER: "acme", GITHUB_API_URL: fake.url, ...env },
    "embedded",
  );

/** The variables a start failure names, or the error itself when it is not a config error. */
async function failureOf(env: Record<string, string>): Promise<string[] | unknown> {
  try {
    await buildForge(github(env));
  } catch (error) {
    return error instanceof ConfigError ? error.problems.map((p) => p.variable) : error;
  }
  throw new Error("buildForge did not fail");
}

describe("buildForge", () => {
  it("is the local forge by default", async () => {
    expect(await buildForge(loadConfig({}, "embedded"))).toBeInstanceOf(LocalForge);
  });

  it("is GitHub with FORGE=github, creating in the owner it found (an organisation here)", async () => {
    const forge = await buildForge(github({ WORKER_API_URL: "http://api.example:8080" }));
    expect(forge).toBeInstanceOf(GithubForge);
    const repo = await forge.createRepository({ projectId: "p1", slug: "made-at-start" });
    expect(repo.name).toBe("acme/made-at-start");
    expect(repo.cloneUrl).toBe("http://api.example:8080/git/made-at-start.git");
    expect(fake.requests.some((r) => r.method === "POST" && r.url === "/orgs/acme/repos")).toBe(true);
  });

  it("stops the start naming GITHUB_TOKEN or GITHUB_OWNER when GitHub refuses them", async () => {
    expect(await failureOf({ GITHUB_TOKEN: "ghp_refused_token" })).toEqual(["GITHUB_TOKEN"]);
    expect(await failureOf({ GITHUB_OWNER: "nobody-here" })).toEqual(["GITHUB_OWNER"]);
    const unreachable = await failureOf({ GITHUB_API_URL: "http://127.0.0.1:1" });
    expect(unreachable).toMatchObject({ kind: "unavailable", code: "github_unavailable" });
    expect(JSON.stringify(unreachable)).not.toContain(TOKEN);
  });
});
