import { describe, expect, it } from "vitest";
import { githubGitUrl } from "./forge.js";
import { ConfigError, loadConfig } from "./index.js";

const problemsOf = (env: NodeJS.ProcessEnv): { variable: string; message: string }[] => {
  try {
    loadConfig(env, "embedded");
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe("forge settings", () => {
  it("is the local forge by default, and GitHub's variables are not read without FORGE=github", () => {
    expect(loadConfig({}, "embedded").forge).toEqual({ kind: "local" });
    // A token kept in the environment for other tools is neither required nor checked.
    expect(loadConfig({ GITHUB_TOKEN: "not a token" }, "embedded").forge).toEqual({ kind: "local" });
  });

  it("takes GitHub with a token and an owner; API and git URLs default to github.com's", () => {
    const config = loadConfig(
      { FORGE: "github", GITHUB_TOKEN: "ghp_abcdefghijklmnop", GITHUB_OWNER: "acme" },
      "embedded",
    );
    expect(config.forge).toEqual({
      kind: "github",
      token: "ghp_abcdefghijklmnop",
      owner: "acme",
      apiUrl: "https://api.github.com",
      gitUrl: "https://github.com",
    });
    const pointed = loadConfig(
      {
        FORGE: "github",
        GITHUB_TOKEN: "ghp_abcdefghijklmnop",
        GITHUB_OWNER: "acme",
        GITHUB_API_URL: "http://127.0.0.1:9999",
      },
      "embedded",
    );
    expect(pointed.forge).toMatchObject({ apiUrl: "http://127.0.0.1:9999", gitUrl: "http://127.0.0.1:9999" });
  });

  it("names each missing or malformed GitHub variable at start, never echoing a value", () => {
    expect(problemsOf({ FORGE: "github" })).toEqual([
      { variable: "GITHUB_TOKEN", message: expect.stringMatching(/^required with FORGE=github/) },
      { variable: "GITHUB_OWNER", message: expect.stringMatching(/^required with FORGE=github/) },
    ]);
    const bad = problemsOf({
      FORGE: "github",
      GITHUB_TOKEN: "ghp with spaces",
      GITHUB_OWNER: "-acme",
      GITHUB_API_URL: "ftp://x",
    });
    expect(bad.map((p) => p.variable)).toEqual(["GITHUB_TOKEN", "GITHUB_OWNER", "GITHUB_API_URL"]);
    expect(JSON.stringify(bad)).not.toContain("ghp with spaces");
    expect(problemsOf({ FORGE: "gitlab" })).toEqual([{ variable: "FORGE", message: "local or github" }]);
  });

  it("derives GitHub's git host from its API URL", () => {
    expect(githubGitUrl("https://api.github.com")).toBe("https://github.com");
    expect(githubGitUrl("https://ghe.example.com/api/v3/")).toBe("https://ghe.example.com");
    expect(githubGitUrl("http://127.0.0.1:4000")).toBe("http://127.0.0.1:4000");
  });
});
