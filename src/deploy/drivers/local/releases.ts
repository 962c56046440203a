import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import {
  AppError,
  type Argv,
  detailsFromZod,
  Id,
  type TemplateManifest,
  Timestamp,
} from "../../../contracts/index.js";
import { CommitSha, type GitAccess } from "../../../git/index.js";
import type { Logger } from "../../../observability/index.js";
import type { Release } from "../../driver.js";
import { buildEnv, hostPath, runCommand } from "./child-command.js";
import { type ProjectLayout, ReleaseId } from "./layout.js";

/** Bound on fetching and archiving one commit. */
const GIT_TIMEOUT_MS = 5 * 60_000;
/** Bound on unpacking an archive. */
const EXTRACT_TIMEOUT_MS = 5 * 60_000;
/** Output kept in a failed build's error. */
const ERROR_TAIL_CHARS = 4_000;

/** `<first 12 of the SHA>-<UTC yyyymmddhhmmss>`. */
export function releaseIdFor(commit: string, at: Date): string {
  return `${commit.slice(0, 12)}-${at.toISOString().replace(/\D/g, "").slice(0, 14)}`;
}

const BuiltMarker = z.strictObject({
  id: ReleaseId,
  projectId: Id,
  commit: CommitSha,
  location: z.string(),
  builtAt: Timestamp,
});

/** The built release `id`, or null when there is no such folder or its build never finished. */
export async function readBuilt(layout: ProjectLayout, id: string): Promise<Release | null> {
  let text: string;
  try {
    text = await readFile(layout.builtMarker(id), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new AppError(
      "internal",
      "release_marker_corrupt",
      `the build marker of release ${id} is not JSON`,
      {
        cause,
      },
    );
  }
  const parsed = BuiltMarker.safeParse(json);
  if (!parsed.success) {
    throw new AppError("internal", "release_marker_corrupt", `the build marker of release ${id} is damaged`, {
      details: detailsFromZod(parsed.error),
    });
  }
  // The folder is where it is now, whatever the root was called when it was built.
  return { ...parsed.data, location: layout.releaseDir(id) };
}

/** Release folder names under the project, finished or not. */
async function releaseFolders(layout: ProjectLayout): Promise<string[]> {
  try {
    return (await readdir(layout.releasesDir, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** Every finished release of the project, newest first. */
export async function listBuilt(layout: ProjectLayout): Promise<Release[]> {
  const releases: Release[] = [];
  for (const name of await releaseFolders(layout)) {
    if (!ReleaseId.safeParse(name).success) continue;
    const release = await readBuilt(layout, name);
    if (release) releases.push(release);
  }
  return releases.sort((a, b) => b.builtAt.localeCompare(a.builtAt) || b.id.localeCompare(a.id));
}

/** Folders whose build never finished (a crash mid-build left them). */
export async function listUnfinished(layout: ProjectLayout): Promise<string[]> {
  const unfinished: string[] = [];
  for (const name of await releaseFolders(layout)) {
    if (!(await readBuilt(layout, name))) unfinished.push(name);
  }
  return unfinished;
}

/**
 * Removes the releases past the newest `keep` and the unfinished folders a crash left, sparing
 * `protect` (what runs or is recorded), folders `building` says a build here is writing now, and
 * unfinished folders changed within `unfinishedAfterMs`: another engine sharing the data directory
 * may be building one (no build outlasts its install and build bounds). Returns what it removed.
 */
export async function pruneReleases(
  layout: ProjectLayout,
  keep: number,
  protect: ReadonlySet<string>,
  building: (name: string) => boolean,
  unfinishedAfterMs: number,
): Promise<string[]> {
  const built = await listBuilt(layout);
  const kept = new Set([...protect, ...built.slice(0, keep).map((release) => release.id)]);
  const doomed = built.filter((release) => !kept.has(release.id)).map((release) => release.id);
  const now = Date.now();
  for (const name of await listUnfinished(layout)) {
    if (building(name)) continue;
    const changed = (await stat(layout.releaseDir(name)).catch(() => null))?.mtimeMs;
    if (changed !== undefined && now - changed >= unfinishedAfterMs) doomed.push(name);
  }
  for (const id of doomed) {
    await rm(layout.releaseDir(id), { recursive: true, force: true });
    await rm(layout.logFile(id), { force: true });
  }
  return doomed;
}

/** What one build needs; the spec is already validated. */
export interface BuildReleaseInput {
  layout: ProjectLayout;
  projectId: string;
  commit: string;
  source: GitAccess;
  manifest: TemplateManifest;
  /** The id to build under (the caller marks it as in progress). */
  id: string;
  installTimeoutMs: number;
  buildTimeoutMs: number;
  /** Aborted when the driver closes: running commands are killed. */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * Builds one release: fetch the commit into a scratch bare repository, `git archive` it into the
 * release folder, run the manifest's install and build commands there, then leave the `.built`
 * marker. Any failure removes the half-built folder.
 */
export async function buildRelease(input: BuildReleaseInput): Promise<Release> {
  const { layout, id } = input;
  const dir = layout.releaseDir(id);
  await Promise.all([
    mkdir(layout.tmpDir, { recursive: true }),
    mkdir(layout.cacheDir, { recursive: true }),
    mkdir(layout.releasesDir, { recursive: true }),
  ]);
  const scratch = await mkdtemp(join(layout.tmpDir, "fetch-"));
  try {
    const archive = await fetchArchive(input, scratch);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    await mustSucceed(input, ["tar", "-x", "--no-same-owner", "-f", archive, "-C", dir], {
      cwd: scratch,
      env: { PATH: hostPath(), LANG: "C" },
      timeoutMs: EXTRACT_TIMEOUT_MS,
    });
    const env = buildEnv(layout.cacheDir);
    await step(input, "install", input.manifest.commands.install, input.installTimeoutMs, env, dir);
    if (input.manifest.commands.build) {
      await step(input, "build", input.manifest.commands.build, input.buildTimeoutMs, env, dir);
    }
    const release: Release = {
      id,
      projectId: input.projectId,
      commit: input.commit,
      location: dir,
      builtAt: new Date().toISOString(),
    };
    const marker = layout.builtMarker(id);
    await writeFile(`${marker}.tmp`, `${JSON.stringify(release, null, 2)}\n`);
    await rename(`${marker}.tmp`, marker);
    return release;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Fetches exactly the commit (or, from servers refusing a SHA, every branch) and archives it. */
async function fetchArchive(input: BuildReleaseInput, scratch: string): Promise<string> {
  const repo = join(scratch, "repo.git");
  const env = gitEnv(input.source.env);
  await mustSucceed(input, ["git", "init", "--quiet", "--bare", repo], {
    cwd: scratch,
    env,
    timeoutMs: GIT_TIMEOUT_MS,
  });
  const url = input.source.url;
  const bySha = await runCommand(["git", "fetch", "--quiet", "--no-tags", "--depth=1", url, input.commit], {
    cwd: repo,
    env,
    timeoutMs: GIT_TIMEOUT_MS,
    signal: input.signal,
  });
  if (bySha.code !== 0) {
    const all = await runCommand(["git", "fetch", "--quiet", "--tags", url, "+refs/heads/*:refs/heads/*"], {
      cwd: repo,
      env,
      timeoutMs: GIT_TIMEOUT_MS,
      signal: input.signal,
    });
    if (all.code !== 0) {
      throwIfClosed(input);
      throw new AppError("unavailable", "source_unavailable", `cannot fetch from ${url}`, {
        details: [{ path: "source.url", message: tail(all.outputTail) }],
      });
    }
  }
  const exists = await runCommand(["git", "cat-file", "-e", `${input.commit}^{commit}`], {
    cwd: repo,
    env,
    timeoutMs: GIT_TIMEOUT_MS,
  });
  if (exists.code !== 0) {
    throw new AppError("not_found", "commit_not_found", `commit ${input.commit} is not in ${url}`, {
      details: [{ path: "commit", message: "no such commit in the repository" }],
    });
  }
  const archive = join(scratch, "release.tar");
  await mustSucceed(input, ["git", "archive", "--format=tar", `--output=${archive}`, input.commit], {
    cwd: repo,
    env,
    timeoutMs: GIT_TIMEOUT_MS,
  });
  return archive;
}

/** Runs one of the manifest's commands; a failure is `invalid` `build_failed` with the output's tail. */
async function step(
  input: BuildReleaseInput,
  name: "install" | "build",
  argv: Argv,
  timeoutMs: number,
  env: Record<string, string>,
  cwd: string,
): Promise<void> {
  input.logger.info({ release: input.id, step: name }, "release build step");
  const result = await runCommand(argv, { cwd, env, timeoutMs, signal: input.signal });
  if (result.code === 0) return;
  throwIfClosed(input);
  const why = result.startError
    ? `cannot start ${argv[0]}: ${result.startError}`
    : result.isTimedOut
      ? `timed out after ${timeoutMs} ms`
      : `exit code ${result.code}`;
  throw new AppError("invalid", "build_failed", `${name} failed for release ${input.id}: ${why}`, {
    details: [{ path: `commands.${name}`, message: tail(result.outputTail) }],
  });
}

/** Runs one of our own steps (git, tar); a failure is `internal` with the output's tail. */
async function mustSucceed(
  input: BuildReleaseInput,
  argv: Argv,
  opts: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<void> {
  const result = await runCommand(argv, { ...opts, signal: input.signal });
  if (result.code === 0) return;
  throwIfClosed(input);
  throw new AppError(
    "internal",
    "release_unpack_failed",
    `${argv[0]} ${argv[1]} failed for release ${input.id}`,
    {
      details: [{ path: "", message: tail(result.startError ?? result.outputTail) }],
    },
  );
}

function throwIfClosed(input: BuildReleaseInput): void {
  if (input.signal.aborted) {
    throw new AppError("unavailable", "driver_closed", `the build of release ${input.id} was stopped`);
  }
}

function tail(text: string): string {
  return text.slice(-ERROR_TAIL_CHARS);
}

/** git with no user or system config and no prompts, plus the source's access variables. */
function gitEnv(access: Record<string, string>): Record<string, string> {
  const { HOME: _home, ...base } = buildEnv("/nonexistent");
  return {
    ...base,
    LANG: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    ...access,
  };
}
