import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ScriptStep } from "./scripted-script.js";

/**
 * How the scripted agent carries out each kind of step. Every executor resolves to an outcome and
 * never throws for a failing step: a failure is data the agent prints and acts on.
 */

const DEFAULT_RUN_TIMEOUT_MS = 120_000;
const GIT_TIMEOUT_MS = 60_000;
const HTTP_TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT_CHARS = 64_000;
const DETAIL_LIMIT_CHARS = 4_000;

/** What a step did: success and a one-line (or short) account of it. */
export interface StepOutcome {
  ok: boolean;
  detail: string;
}

/**
 * How long a call to the API (a tool call, a git push) keeps trying while the API cannot be reached
 * or answers 502-504: an api process restarting, or what is behind it, is a pause, not the agent's
 * failure.
 */
const API_RETRY_WINDOW_MS = 60_000;
const API_RETRY_PAUSE_MS: [first: number, longest: number] = [250, 2_000];
const TRANSIENT_STATUS = new Set([502, 503, 504]);
/** What git over HTTP says when it got no answer, a cut one, or a 502-504, from the server. */
const TRANSIENT_GIT =
  /Empty reply from server|Failed to connect|Could not connect|Couldn't connect|Connection refused|Connection reset|Recv failure|transfer closed|RPC failed|early EOF|unexpected disconnect|Operation timed out|returned error: 50[234]/i;
/**
 * What the server says when the branch moved between its offer and its update: another push landed
 * meanwhile. Most often it is this very push. An api process died with the push under way, git on
 * its machine went on and moved the branch, and git's HTTP client sent the push again on a new
 * connection, to a live api. The next try tells which: up to date, or rejected.
 */
const RACED_GIT = /cannot lock ref|failed to update ref/i;

/** What every step may use: the workspace and the environment the agent was given. */
export interface StepContext {
  workspace: string;
  env: NodeJS.ProcessEnv;
  /** How long a call to the API tries again after a transient failure (default a minute). */
  apiRetryWindowMs?: number;
}

interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  spawnError: string | null;
}

const clip = (text: string, limit: number): string => (text.length > limit ? `…${text.slice(-limit)}` : text);

/** Runs an argument array to completion (no shell), killing it at the deadline. */
export function runCommand(
  argv: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
  return new Promise((done) => {
    const [cmd, ...args] = argv;
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const child = spawn(cmd ?? "", args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout = clip(stdout + chunk.toString("utf8"), OUTPUT_LIMIT_CHARS);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = clip(stderr + chunk.toString("utf8"), OUTPUT_LIMIT_CHARS);
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      done({ code: null, stdout, stderr, timedOut, spawnError: error.message });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, timedOut, spawnError: null });
    });
  });
}

const git = (ctx: StepContext, args: string[], env: NodeJS.ProcessEnv = ctx.env) =>
  runCommand(["git", ...args], { cwd: ctx.workspace, env, timeoutMs: GIT_TIMEOUT_MS });

const failureOf = (what: string, r: CommandResult): string => {
  if (r.spawnError) return `${what}: ${r.spawnError}`;
  if (r.timedOut) return `${what}: timed out`;
  return `${what} exited with ${r.code}: ${clip((r.stderr || r.stdout).trim(), DETAIL_LIMIT_CHARS)}`;
};

async function writeStep(ctx: StepContext, path: string, content: string): Promise<StepOutcome> {
  const target = resolve(ctx.workspace, path);
  const rel = relative(ctx.workspace, target);
  if (isAbsolute(path) || rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    return { ok: false, detail: `refusing to write outside the workspace: ${path}` };
  }
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, content);
  return { ok: true, detail: `wrote ${rel} (${Buffer.byteLength(content)} bytes)` };
}

async function runStep(
  ctx: StepContext,
  run: { argv: string[]; timeoutMs?: number; allowFailure?: boolean },
): Promise<StepOutcome> {
  const r = await runCommand(run.argv, {
    cwd: ctx.workspace,
    env: ctx.env,
    timeoutMs: run.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
  });
  const ok = r.code === 0 || (run.allowFailure === true && r.spawnError === null && !r.timedOut);
  const output = clip(`${r.stdout}${r.stderr}`.trim(), DETAIL_LIMIT_CHARS);
  if (ok) return { ok, detail: `${run.argv.join(" ")} -> exit ${r.code}${output ? `\n${output}` : ""}` };
  return { ok, detail: failureOf(run.argv.join(" "), r) };
}

/** Commits as a recognisable author unless the environment or git config names one. */
async function commitEnv(ctx: StepContext): Promise<NodeJS.ProcessEnv> {
  if (ctx.env.GIT_AUTHOR_EMAIL) return ctx.env;
  const configured = await git(ctx, ["config", "user.email"]);
  if (configured.code === 0 && configured.stdout.trim()) return ctx.env;
  return {
    ...ctx.env,
    GIT_AUTHOR_NAME: "Scripted Agent",
    GIT_AUTHOR_EMAIL: "scripted-agent@orchestrator.invalid",
    GIT_COMMITTER_NAME: ctx.env.GIT_COMMITTER_NAME ?? "Scripted Agent",
    GIT_COMMITTER_EMAIL: ctx.env.GIT_COMMITTER_EMAIL ?? "scripted-agent@orchestrator.invalid",
  };
}

async function commitStep(ctx: StepContext, message: string): Promise<StepOutcome> {
  const add = await git(ctx, ["add", "-A"]);
  if (add.code !== 0) return { ok: false, detail: failureOf("git add -A", add) };
  const staged = await git(ctx, ["diff", "--cached", "--quiet"]);
  if (staged.code === 0) return { ok: true, detail: "nothing to commit" };
  const commit = await git(ctx, ["commit", "--quiet", "-m", message], await commitEnv(ctx));
  if (commit.code !== 0) return { ok: false, detail: failureOf("git commit", commit) };
  const sha = (await git(ctx, ["rev-parse", "HEAD"])).stdout.trim();
  const remotes = (await git(ctx, ["remote"])).stdout.split("\n").filter(Boolean);
  if (remotes.length === 0) return { ok: true, detail: `committed ${sha}` };
  const remote = remotes.includes("origin") ? "origin" : (remotes[0] ?? "origin");
  // Pushing the same commit again is harmless, so a push the server never answered, or one that
  // met another update of the branch, is tried again.
  return withApiRetries(ctx, async () => {
    const push = await git(ctx, ["push", "--quiet", remote, "HEAD"]);
    if (push.code === 0) return { outcome: { ok: true, detail: `committed ${sha} and pushed to ${remote}` } };
    return {
      outcome: { ok: false, detail: failureOf(`git push ${remote}`, push) },
      transient: TRANSIENT_GIT.test(push.stderr) || RACED_GIT.test(push.stderr),
    };
  });
}

/**
 * POSTs a tool call to the orchestrator API with the worker's bearer token. A call that could not
 * reach the API, or met a 502-504, is tried again until the retry window ends; any other answer is
 * final. A report whose answer was lost and is sent again is recorded again with the same content.
 */
async function callTool(ctx: StepContext, tool: string, body: unknown): Promise<StepOutcome> {
  const base = ctx.env.ORCHESTRATOR_API_URL;
  const token = ctx.env.ORCHESTRATOR_TOKEN;
  if (!base || !token) {
    return { ok: false, detail: `${tool}: ORCHESTRATOR_API_URL or ORCHESTRATOR_TOKEN is not set` };
  }
  return withApiRetries(ctx, () => postTool(base, token, tool, body));
}

/** Runs `once` until it succeeds, fails for good, or the API retry window ends. */
async function withApiRetries(
  ctx: StepContext,
  once: () => Promise<{ outcome: StepOutcome; transient?: boolean }>,
): Promise<StepOutcome> {
  const deadline = Date.now() + (ctx.apiRetryWindowMs ?? API_RETRY_WINDOW_MS);
  const [first, longest] = API_RETRY_PAUSE_MS;
  for (let attempt = 1; ; attempt++) {
    const { outcome, transient } = await once();
    if (outcome.ok || !transient || Date.now() >= deadline) {
      return attempt === 1 ? outcome : { ...outcome, detail: `${outcome.detail} (try ${attempt})` };
    }
    await sleep(Math.min(longest, first * 2 ** (attempt - 1), Math.max(0, deadline - Date.now())));
  }
}

async function postTool(
  base: string,
  token: string,
  tool: string,
  body: unknown,
): Promise<{ outcome: StepOutcome; transient?: boolean }> {
  try {
    const res = await fetch(`${base.replace(/\/+$/, "")}/api/tools/${tool}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    const text = clip((await res.text()).trim(), DETAIL_LIMIT_CHARS);
    if (!res.ok) {
      return {
        outcome: { ok: false, detail: `${tool}: HTTP ${res.status} ${text}` },
        transient: TRANSIENT_STATUS.has(res.status),
      };
    }
    return { outcome: { ok: true, detail: `${tool}: HTTP ${res.status}` }, transient: false };
  } catch (error) {
    // No answer at all (refused, reset, timed out): the API may well be back in a moment.
    const message = error instanceof Error ? error.message : String(error);
    return { outcome: { ok: false, detail: `${tool}: ${message}` }, transient: true };
  }
}

async function reportStep(
  ctx: StepContext,
  report: { status: string; summary: string; question?: string; commit?: string; acceptanceTest?: string },
): Promise<StepOutcome> {
  let commit = report.commit ?? null;
  if (commit === "HEAD") {
    const head = await git(ctx, ["rev-parse", "HEAD"]);
    if (head.code !== 0) return { ok: false, detail: failureOf("git rev-parse HEAD", head) };
    commit = head.stdout.trim();
  }
  return callTool(ctx, "report", {
    status: report.status,
    summary: report.summary,
    question: report.question ?? null,
    commit,
    ...(report.acceptanceTest ? { acceptanceTest: report.acceptanceTest } : {}),
  });
}

/**
 * Carries out one step other than `pause` and `fail` (which end the turn and are the agent's own
 * business). Unexpected errors (a disk full, say) become a failed outcome too.
 */
export async function executeStep(ctx: StepContext, step: ScriptStep): Promise<StepOutcome> {
  try {
    if ("write" in step) return await writeStep(ctx, step.write.path, step.write.content);
    if ("run" in step) return await runStep(ctx, step.run);
    if ("commit" in step) return await commitStep(ctx, step.commit.message);
    if ("report" in step) return await reportStep(ctx, step.report);
    if ("progress" in step) {
      const p = step.progress;
      return await callTool(ctx, "progress", {
        step: p.step,
        percent: p.percent ?? null,
        note: p.note ?? null,
      });
    }
    if ("sleep" in step) {
      await sleep(step.sleep.ms);
      return { ok: true, detail: `slept ${step.sleep.ms} ms` };
    }
    return { ok: false, detail: "this step ends the turn and is not executed here" };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}
