/**
 * FORGE=github end to end. The orchestrator runs as a person starts it (`orchestrator up --demo`,
 * the built binary as its own process) with GITHUB_TOKEN, GITHUB_OWNER and GITHUB_API_URL pointing at
 * the fake GitHub, which speaks REST and serves git smart HTTP from real bare repositories. A
 * project (the light project of test/support/light-project.ts) is built by the scripted agents in real sandboxes, tested by the real Tester and
 * deployed by the local driver. Then, read from GitHub's side and from the API:
 * - the repository is the organisation's, on GitHub, and holds the pushed commits; the local
 *   forge was never used;
 * - workers pushed through the API's relay with their own token: the developer's sandbox
 *   environment (committed by the agent itself) holds no GitHub token;
 * - the deploy fetched its code from GitHub, at the green commit, and the service answers;
 * - the secrets the manifest marks `ci` are Actions secrets sealed to the repository's key, and no
 *   file holds them;
 * - the token appears nowhere: no run event, log line, worker log or API answer.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deployment, Run, RunEvent } from "../../src/contracts/index.js";
import type { ScriptedPlaybook } from "../../src/demo/index.js";
import { runGit } from "../../src/git/index.js";
import { type FakeGithub, startFakeGithub } from "../fakes/github/index.js";
import { type RunningCli, START_DEADLINE_MS, startCli, waitForHealth } from "../support/cli.js";
import { lightArchitect, lightGreenDeveloper } from "../support/light-project.js";
import { freePort, workerPortRange } from "../support/ports.js";

const RUN_DEADLINE_MS = 300_000;
const GITHUB_TOKEN = `ghp_${randomBytes(18).toString("hex")}`;
const OWNER = "acme";
const CI_KEY = `ci_${randomBytes(24).toString("base64url")}`;

/** The light project's developer, who first keeps its environment in the repository and declares CI secrets. */
function playbook(): ScriptedPlaybook {
  const declareCi = [
    'const fs = require("node:fs");',
    'const m = JSON.parse(fs.readFileSync("orchestrator.json", "utf8"));',
    "m.env.push(",
    '  { name: "CI_DEPLOY_KEY", kind: "user-secret", required: false, ci: true, description: "CI deploy key." },',
    '  { name: "CI_DB_PASSWORD", kind: "generated-secret", required: true, ci: true, description: "CI database." },',
    ");",
    'fs.writeFileSync("orchestrator.json", JSON.stringify(m, null, 2) + "\\n");',
  ].join("\n");
  return {
    architect: lightArchitect,
    developer: [
      {
        steps: [
          // Base64 so the file is the environment exactly, whatever a log would mask.
          { run: { argv: ["sh", "-c", "env | base64 -w0 > sandbox-env.b64"] } },
          { run: { argv: ["node", "-e", declareCi] } },
          ...lightGreenDeveloper.steps,
        ],
      },
    ],
  };
}

let dir = "";
let dataDir = "";
let fake: FakeGithub;
let proc: RunningCli | null = null;
const output = () => proc?.output() ?? "";
let url = "";
let adminToken = "";
/** Every API answer read, for the final scan. */
const answers: { where: string; text: string }[] = [];

async function call(method: "GET" | "POST", path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  answers.push({ where: `${method} ${path}`, text });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}
const tool = async <T>(name: string, input: unknown) =>
  ((await call("POST", `/api/tools/${name}`, input)) as { data: T }).data;

async function until<T>(what: string, probe: () => Promise<T | null>, ms = RUN_DEADLINE_MS): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`timed out: ${what}\n${output().slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** git on the fake's own bare repository: GitHub's side, not what the orchestrator says. */
async function onGithub(fullName: string, args: string[]): Promise<string> {
  const gitDir = fake.gitDir(fullName);
  if (!gitDir) throw new Error(`GitHub has no ${fullName}`);
  const result = await runGit(["--git-dir", gitDir, ...args]);
  if (result.code !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.toString("utf8");
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "forge-github-"));
  dataDir = join(dir, "data");
  fake = await startFakeGithub({ token: GITHUB_TOKEN, userLogin: "octo-user", orgs: [OWNER] });
  const playbookFile = join(dir, "playbook.json");
  await writeFile(playbookFile, JSON.stringify(playbook()));
  const port = await freePort();
  const [low, high] = workerPortRange(26_000);
  url = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ORCHESTRATOR_DATA_DIR: dataDir,
    ORCHESTRATOR_PORT: String(port),
    LOG_LEVEL: "info",
    SCRIPTED_PLAYBOOK: playbookFile,
    DEPLOY_PORT_RANGE: `${low}-${high}`,
    DEPLOY_HEALTH_DEADLINE: "20s",
    FORGE: "github",
    GITHUB_TOKEN,
    GITHUB_OWNER: OWNER,
    GITHUB_API_URL: fake.url,
  };
  // `orchestrator up --demo` as a person starts it, as its own process: its whole output is kept.
  proc = startCli(["up", "--demo"], env);
  await waitForHealth(`${url}/health`, START_DEADLINE_MS, proc);
  adminToken = (await readFile(join(dataDir, "admin.token"), "utf8")).trim();
}, START_DEADLINE_MS + 30_000);

afterAll(async () => {
  if (proc && proc.child.exitCode === null) {
    const timer = setTimeout(() => proc?.child.kill("SIGKILL"), 20_000);
    await proc.stop("SIGTERM");
    clearTimeout(timer);
  }
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe("FORGE=github", () => {
  let projectId = "";
  let slug = "";
  let green: Run;
  let deploy: Run;

  it(
    "builds and deploys a project whose repository lives on GitHub",
    async () => {
      const project = await tool<{ id: string; slug: string }>("project.create", { name: "Clock on GitHub" });
      projectId = project.id;
      slug = project.slug;
      await tool("secret.set", { projectId, key: "CI_DEPLOY_KEY", value: CI_KEY });
      const started = await tool<Run>("engineering.start", {
        projectId,
        brief: "A web service that tells the time.",
      });
      const runs = async (kind: string) =>
        ((await call("GET", `/api/runs?projectId=${projectId}&kind=${kind}&limit=10`)) as { items: Run[] })
          .items;
      const ended = (run: Run | undefined) =>
        run && ["succeeded", "failed", "blocked", "cancelled"].includes(run.status) ? run : null;
      green = await until("the engineering run", async () =>
        ended((await runs("engineering")).find((r) => r.id === started.id)),
      );
      expect(green.status, JSON.stringify(green.error)).toBe("succeeded");
      deploy = await until("the deploy run", async () => ended((await runs("deploy"))[0]));
      expect(deploy.status, `${JSON.stringify(deploy.error)}\n${output().slice(-3000)}`).toBe("succeeded");
    },
    RUN_DEADLINE_MS * 2,
  );

  it("keeps the repository on GitHub, in the organisation, with the pushed commits", async () => {
    const fullName = `${OWNER}/${slug}`;
    const repo = (await (
      await fetch(`${fake.url}/repos/${fullName}`, { headers: { authorization: `token ${GITHUB_TOKEN}` } })
    ).json()) as { private: boolean; owner: { type: string } };
    expect(repo).toMatchObject({ private: true, owner: { type: "Organization" } });
    const commit = (green.result as { commit: string; preparedCommit: string }).commit;
    const prepared = (green.result as { preparedCommit: string }).preparedCommit;
    const log = (await onGithub(fullName, ["log", "--format=%H", "refs/heads/main"])).trim().split("\n");
    expect(log[0]).toBe(commit);
    expect(log).toContain(prepared);
    expect(await onGithub(fullName, ["show", `${commit}:src/main.mjs`])).toContain("/api/time");
    // Pushes reached GitHub over git; nothing was kept in a local forge.
    const pushes = fake.requests.filter(
      (r) => r.kind === "git" && r.url === `/${fullName}.git/git-receive-pack`,
    );
    expect(pushes.length).toBeGreaterThanOrEqual(2);
    expect(existsSync(join(dataDir, "git"))).toBe(false);
    const stored = await tool<{ repositoryUrl: string }>("project.get", { id: projectId });
    expect(stored.repositoryUrl).toBe(`${url}/git/${slug}.git`);
  });

  it("gave the developer's sandbox its own API token and no GitHub token", async () => {
    const commit = (green.result as { commit: string }).commit;
    const encoded = await onGithub(`${OWNER}/${slug}`, ["show", `${commit}:sandbox-env.b64`]);
    const sandboxEnv = Buffer.from(encoded.trim(), "base64").toString("utf8");
    expect(sandboxEnv).toMatch(/^ORCHESTRATOR_TOKEN=orc_/m);
    expect(sandboxEnv).not.toContain(GITHUB_TOKEN);
    expect(sandboxEnv).not.toMatch(/^GITHUB_/m);
  });

  it("deployed the green commit, fetched from GitHub during the deploy", async () => {
    const status = await tool<{ deployments: Deployment[] }>("deploy.status", { projectId });
    const live = status.deployments.find((d) => d.status === "healthy");
    const commit = (green.result as { commit: string }).commit;
    expect(live?.commitSha).toBe(commit);
    const started = Date.parse(deploy.startedAt ?? "");
    const finished = Date.parse(deploy.finishedAt ?? "");
    const fetches = fake.requests.filter(
      (r) =>
        r.kind === "git" &&
        r.url === `/${OWNER}/${slug}.git/git-upload-pack` &&
        r.at >= started &&
        r.at <= finished,
    );
    expect(fetches.length).toBeGreaterThan(0);
    const answer = await fetch(`${live?.url?.replace(/\/+$/, "")}/api/time`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toHaveProperty("now");
  });

  it("writes the manifest's CI secrets as sealed Actions secrets, never as files", async () => {
    const fullName = `${OWNER}/${slug}`;
    await until(
      "the CI secrets",
      async () => (fake.secretNames(fullName).length === 2 ? true : null),
      30_000,
    );
    expect(fake.secretNames(fullName)).toEqual(["CI_DB_PASSWORD", "CI_DEPLOY_KEY"]);
    expect(await fake.secret(fullName, "CI_DEPLOY_KEY")).toBe(CI_KEY);
    expect((await fake.secret(fullName, "CI_DB_PASSWORD"))?.length).toBeGreaterThan(20);
    expect(fake.sealedSecret(fullName, "CI_DEPLOY_KEY")?.encrypted_value).not.toContain(CI_KEY);
    const found = await runGit([
      "--git-dir",
      fake.gitDir(fullName) ?? "",
      "grep",
      "-F",
      CI_KEY,
      "refs/heads/main",
    ]);
    expect(found.code).toBe(1); // git grep: no match
  });

  it("never shows the GitHub token: not in run events, logs, worker logs or API answers", async () => {
    const runs = (await call("GET", `/api/runs?projectId=${projectId}&limit=100`)) as { items: Run[] };
    expect(runs.items.length).toBeGreaterThanOrEqual(2);
    let events = 0;
    for (const run of runs.items) {
      await call("GET", `/api/runs/${run.id}`);
      events += ((await call("GET", `/api/runs/${run.id}/events?limit=1000`)) as { items: RunEvent[] }).items
        .length;
    }
    expect(events).toBeGreaterThan(10);
    const workers = (await call("GET", `/api/workers?projectId=${projectId}&limit=100`)) as {
      items: { id: string }[];
    };
    expect(workers.items.length).toBeGreaterThanOrEqual(3);
    for (const worker of workers.items) await call("GET", `/api/workers/${worker.id}/logs?lines=5000`);
    await tool("deploy.status", { projectId });
    await tool("engineering.status", { projectId });
    await tool("secret.list", { projectId });
    await call("GET", `/api/projects/${projectId}`);
    const forms = [
      GITHUB_TOKEN,
      Buffer.from(GITHUB_TOKEN).toString("base64").slice(0, 40),
      Buffer.from(`x-access-token:${GITHUB_TOKEN}`).toString("base64").slice(0, 60),
    ];
    const sources = [...answers, { where: "the orchestrator's output (logs)", text: output() }];
    expect(output()).toContain("CI secrets written to GitHub Actions");
    const hits = sources.flatMap(({ where, text }) => forms.filter((f) => text.includes(f)).map(() => where));
    expect(hits).toEqual([]);
  });
});
