import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../contracts/index.js";
import { basicAuthEnv, WORKSPACE_CREDENTIAL_HELPER } from "./access.js";
import { gitEnv, runGit } from "./local/git-command.js";

describe("basicAuthEnv", () => {
  it("configures git to send the token as a Basic Authorization header", () => {
    const env = basicAuthEnv("orc_abc");
    expect(env).toEqual({
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from("x-access-token:orc_abc").toString("base64")}`,
    });
    expect(JSON.stringify(env)).not.toContain("orc_abc");
  });

  it("refuses an empty token", () => {
    expect(() => basicAuthEnv("")).toThrow(AppError);
  });

  it("is what git really reads as its config", async () => {
    const result = await runGit(["config", "--get-all", "http.extraheader"], { env: basicAuthEnv("t0k") });
    expect(result.stdout.toString("utf8").trim()).toBe(
      `Authorization: Basic ${Buffer.from("x-access-token:t0k").toString("base64")}`,
    );
  });
});

describe("WORKSPACE_CREDENTIAL_HELPER", () => {
  let repo: string;
  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), "cred-helper-"));
    expect((await runGit(["init", "--quiet", repo])).code).toBe(0);
    // Configured in the repository, as a workspace has it: the config holds the snippet, no secret.
    expect(
      (await runGit(["config", "credential.helper", WORKSPACE_CREDENTIAL_HELPER], { cwd: repo })).code,
    ).toBe(0);
  });
  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  /**
   * `git credential fill` in the repository (helper from its config) with `env` added to git's
   * clean environment; checks that `git -c credential.helper=...` outside it answers the same.
   */
  function fill(env: Record<string, string>) {
    const run = (args: string[], cwd: string) =>
      spawnSync("git", args, { cwd, env: gitEnv(env), input: "protocol=http\nhost=x\n\n", encoding: "utf8" });
    const configured = run(["credential", "fill"], repo);
    const onCommandLine = run(
      ["-c", `credential.helper=${WORKSPACE_CREDENTIAL_HELPER}`, "credential", "fill"],
      "/",
    );
    expect(onCommandLine.stdout).toBe(configured.stdout);
    expect(onCommandLine.status).toBe(configured.status);
    return configured;
  }

  it("answers get with the worker's ORCHESTRATOR_TOKEN", () => {
    const out = fill({ ORCHESTRATOR_TOKEN: "orc_worker" });
    expect(out.status).toBe(0);
    expect(out.stdout).toBe("protocol=http\nhost=x\nusername=x-access-token\npassword=orc_worker\n");
  });

  it("prefers ORCHESTRATOR_GIT_TOKEN when it is set", () => {
    const out = fill({ ORCHESTRATOR_TOKEN: "orc_worker", ORCHESTRATOR_GIT_TOKEN: "ghs_git" });
    expect(out.status).toBe(0);
    expect(out.stdout).toBe("protocol=http\nhost=x\nusername=x-access-token\npassword=ghs_git\n");
  });

  it("gives git nothing when no token is in the environment (git then fails, it does not prompt)", () => {
    const out = fill({});
    expect(out.status).not.toBe(0);
    expect(out.stdout).not.toContain("password=");
  });

  it("prints nothing for store and erase", () => {
    // How git runs a `!` helper: `sh -c '<snippet> "$@"' <snippet> <action>`, the request on stdin.
    const snippet = WORKSPACE_CREDENTIAL_HELPER.slice(1);
    for (const action of ["store", "erase", "get"]) {
      const out = spawnSync("sh", ["-c", `${snippet} "$@"`, snippet, action], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ORCHESTRATOR_TOKEN: "orc_worker" },
        input: "protocol=http\nhost=x\nusername=x-access-token\npassword=orc_worker\n\n",
        encoding: "utf8",
      });
      expect(out.status, action).toBe(0);
      expect(out.stdout, action).toBe(
        action === "get" ? "username=x-access-token\npassword=orc_worker\n" : "",
      );
    }
  });
});
