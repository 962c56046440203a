/**
 * The fake GitHub's git side: each repository is a real bare repository on disk, read with plain
 * git commands for the REST answers and served over git smart HTTP by `git http-backend`, so a
 * client clones and pushes with its own git exactly as it would against github.com.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";

/** The outcome of one git call. */
export interface GitOut {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** git with no user or system config and no prompts (a developer's ~/.gitconfig changes nothing). */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    LANG: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    ...extra,
  };
}

/** Runs git with `args` (an argument array), optional stdin, and returns whatever it exits with. */
export function git(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; input?: Buffer } = {},
): Promise<GitOut> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd: opts.cwd ?? "/", env: cleanEnv(opts.env) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") }),
    );
    child.stdin.on("error", () => {}); // a command that exits early closes its stdin
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}

/** Like `git` but throws with stderr on a non-zero exit; returns stdout as text. */
export async function gitOk(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const result = await git(args, opts);
  if (result.code !== 0) throw new Error(`fake GitHub: git ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout.toString("utf8");
}

/** Creates an empty bare repository on `main`. */
export async function initBare(dir: string): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  await gitOk(["init", "--quiet", "--bare", "--initial-branch=main", dir]);
}

/**
 * A branch name or full SHA to the commit it names, or null. Branches first, as GitHub resolves a
 * `ref`/`sha` parameter; anything that looks like an option is no ref.
 */
export async function resolveRef(dir: string, ref: string): Promise<string | null> {
  if (!ref || ref.startsWith("-")) return null;
  for (const candidate of [`refs/heads/${ref}`, ref]) {
    const out = await git(["--git-dir", dir, "rev-parse", "--verify", "--quiet", `${candidate}^{commit}`]);
    if (out.code === 0) return out.stdout.toString("utf8").trim();
  }
  return null;
}

/** Whether the repository has no branch at all (GitHub: "Git Repository is empty."). */
export async function isEmpty(dir: string): Promise<boolean> {
  return (await gitOk(["--git-dir", dir, "for-each-ref", "--count=1", "refs/heads"])).trim() === "";
}

/** One commit as the REST answers need it. */
export interface GitCommit {
  sha: string;
  message: string;
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
  parents: string[];
  tree: string;
}

const LOG_FORMAT = "--format=%H%x1f%T%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cn%x1f%ce%x1f%cI%x1f%B%x1e";

/** Up to `limit` commits reachable from `sha`, newest first (first parents and merges alike, as git log). */
export async function log(dir: string, sha: string, limit: number): Promise<GitCommit[]> {
  const text = await gitOk(["--git-dir", dir, "log", LOG_FORMAT, `--max-count=${limit}`, sha, "--"]);
  return text
    .split("\x1e")
    .map((record) => record.replace(/^\n/, ""))
    .filter((record) => record.length > 0)
    .map((record) => {
      const [
        hash = "",
        tree = "",
        parents = "",
        an = "",
        ae = "",
        ad = "",
        cn = "",
        ce = "",
        cd = "",
        body = "",
      ] = record.split("\x1f");
      return {
        sha: hash,
        tree,
        parents: parents.split(" ").filter(Boolean),
        author: { name: an, email: ae, date: new Date(ad).toISOString().replace(/\.\d{3}Z$/, "Z") },
        committer: { name: cn, email: ce, date: new Date(cd).toISOString().replace(/\.\d{3}Z$/, "Z") },
        message: body.replace(/\n+$/, ""),
      };
    });
}

/** What is at `path` in a commit: a file's bytes, a folder's entries, or null. */
export async function readPath(
  dir: string,
  sha: string,
  path: string,
): Promise<
  { kind: "file"; bytes: Buffer } | { kind: "dir"; entries: { name: string; type: string }[] } | null
> {
  const spec = `${sha}:${path}`;
  const type = await git(["--git-dir", dir, "cat-file", "-t", spec]);
  const kind = type.stdout.toString("utf8").trim();
  if (type.code !== 0) return null;
  if (kind === "blob") {
    return { kind: "file", bytes: (await git(["--git-dir", dir, "cat-file", "blob", spec])).stdout };
  }
  if (kind !== "tree") return null;
  const listing = await gitOk(["--git-dir", dir, "ls-tree", "-z", spec]);
  const entries = listing
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const [meta = "", name = ""] = line.split("\t");
      const objectType = meta.split(" ")[1];
      return { name, type: objectType === "tree" ? "dir" : objectType === "commit" ? "submodule" : "file" };
    });
  return { kind: "dir", entries };
}

/** One simulated push made with real git: clone the bare repository, commit the files, push. */
export async function commitFiles(
  dir: string,
  push: { branch?: string; message: string; author: string; files: Record<string, string> },
): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), "fake-github-push-"));
  const identity = {
    GIT_AUTHOR_NAME: push.author,
    GIT_AUTHOR_EMAIL: `${push.author.toLowerCase().replace(/\W+/g, "")}@example.invalid`,
    GIT_COMMITTER_NAME: push.author,
    GIT_COMMITTER_EMAIL: `${push.author.toLowerCase().replace(/\W+/g, "")}@example.invalid`,
  };
  try {
    await gitOk(["clone", "--quiet", dir, work]);
    const branch = push.branch ?? "main";
    const hasBranch =
      (await git(["rev-parse", "--verify", "--quiet", `origin/${branch}`], { cwd: work })).code === 0;
    await gitOk(["checkout", "--quiet", "-B", branch, ...(hasBranch ? [`origin/${branch}`] : [])], {
      cwd: work,
    });
    for (const [path, text] of Object.entries(push.files)) {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), text);
    }
    await gitOk(["add", "--all"], { cwd: work });
    await gitOk(["commit", "--quiet", "--allow-empty", "-m", push.message], { cwd: work, env: identity });
    await gitOk(["push", "--quiet", "origin", `HEAD:refs/heads/${branch}`], { cwd: work });
    return (await gitOk(["rev-parse", "HEAD"], { cwd: work })).trim();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Serves one git smart-HTTP request for the bare repository `<root>/<path>` through `git
 * http-backend` (CGI). The request body is read whole (test repositories are small) and
 * gunzipped when git compressed it; pushes are allowed.
 */
export async function serveGitHttp(
  root: string,
  pathInfo: string,
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://fake");
  const encoding = req.headers["content-encoding"];
  const input = encoding === "gzip" || encoding === "x-gzip" ? gunzipSync(body) : body;
  const env: Record<string, string> = {
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: pathInfo,
    REQUEST_METHOD: req.method ?? "GET",
    QUERY_STRING: url.search.replace(/^\?/, ""),
    CONTENT_TYPE: req.headers["content-type"] ?? "",
    CONTENT_LENGTH: String(input.length),
    REMOTE_USER: "x-access-token",
    REMOTE_ADDR: "127.0.0.1",
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.receivepack",
    GIT_CONFIG_VALUE_0: "true",
  };
  const protocol = req.headers["git-protocol"];
  if (typeof protocol === "string") env.HTTP_GIT_PROTOCOL = protocol;
  const out = await git(["http-backend"], { env, input });
  const split = out.stdout.indexOf("\r\n\r\n");
  const lf = out.stdout.indexOf("\n\n");
  const [at, len] = split >= 0 && (lf < 0 || split < lf) ? [split, 4] : [lf, 2];
  if (at < 0) {
    res.statusCode = 500;
    res.end(`git http-backend failed: ${out.stderr}`);
    return;
  }
  let status = 200;
  for (const line of out.stdout.subarray(0, at).toString("latin1").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 200;
    else res.setHeader(name, value);
  }
  res.statusCode = status;
  res.end(out.stdout.subarray(at + len));
}
