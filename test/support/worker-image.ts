/**
 * Makes the worker image (`ops/worker/Dockerfile`) available in a test engine without any registry:
 * a Debian root filesystem from `debootstrap` (cached as a tarball between runs), `docker import`ed
 * as the base, then built by `buildWorkerImage`, the function behind `orchestrator worker-image
 * build` (it copies this host's Node and npm in). Each step is skipped when its result already
 * exists, so only a fresh machine pays for debootstrap (~40 s) and a fresh engine data root (or a
 * new Dockerfile, base or Node) for the import and build.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type Dockerode from "dockerode";
import {
  buildWorkerImage,
  findHostNode,
  HOST_CA_BUNDLE,
  WORKER_DOCKERFILE_DIR,
} from "../../src/workers/index.js";

const run = promisify(execFile);

/** Where the debootstrap tarball lives between runs; `ORCHESTRATOR_TEST_CACHE_DIR` overrides. */
export const IMAGE_CACHE_DIR = process.env.ORCHESTRATOR_TEST_CACHE_DIR ?? "/var/tmp/orchestrator-test-cache";
/** The base image; its tag also names the package set, so a changed set never reuses a stale base. */
export const BASE_REPO = "orchestrator-base";
const WORKER_REPO = "orchestrator-worker";
const SUITE = "bookworm";
const PACKAGES = ["acl", "ca-certificates", "git", "libstdc++6", "tini"];
const DEFAULT_MIRROR = "http://deb.debian.org/debian";
const LOCK_WAIT_MS = 15 * 60_000;
const MAX_BUFFER = 64 * 1024 * 1024;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs `fn` holding an exclusive lock file (pid inside); a lock whose holder died is taken over. */
async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number(readFileSync(path, { encoding: "utf8", flag: "a+" }).trim());
    if (holder > 0 && !isAlive(holder)) await rm(path, { force: true });
    else if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${path} (held by ${holder})`);
    else await sleep(500);
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}

/** The Debian mirror this machine's apt uses for the main suite (deb822 or one-line sources). */
export async function debianMirror(): Promise<string> {
  const files = ["/etc/apt/sources.list"];
  const dir = "/etc/apt/sources.list.d";
  if (existsSync(dir)) {
    for (const name of (await readdir(dir)).sort()) {
      if (name.endsWith(".list") || name.endsWith(".sources")) files.push(join(dir, name));
    }
  }
  for (const file of files) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uri && suites.includes(SUITE) && !uri.includes("security")) return uri;
    }
    for (const line of text.split("\n")) {
      const parts = line.trim().split(/\s+/);
      const at = parts.findIndex((p) => /^(https?|file):\/\//.test(p));
      if (parts[0] === "deb" && at > 0 && parts[at + 1] === SUITE) return parts[at] as string;
    }
  }
  return DEFAULT_MIRROR;
}

/** Mount points under `root` (debootstrap mounts /proc and /sys inside the target), deepest first. */
async function unmountUnder(root: string): Promise<void> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  const points = text
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => !!p && (p === root || p.startsWith(`${root}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of points) {
    await run("umount", [point]).catch(() => run("umount", ["-l", point]).catch(() => undefined));
  }
}

/** Path of the cached minbase root filesystem tarball, creating it with debootstrap when missing. */
export async function ensureBaseTarball(): Promise<string> {
  const tarball = join(IMAGE_CACHE_DIR, `${SUITE}-minbase-${PACKAGES.join("_")}.tar`);
  if (existsSync(tarball)) return tarball;
  await mkdir(IMAGE_CACHE_DIR, { recursive: true });
  return withFileLock(`${tarball}.lock`, async () => {
    if (existsSync(tarball)) return tarball;
    const work = await mkdtemp(join(IMAGE_CACHE_DIR, "debootstrap-"));
    const rootfs = join(work, "rootfs");
    try {
      const mirror = await debianMirror();
      await run(
        "debootstrap",
        ["--variant=minbase", `--include=${PACKAGES.join(",")}`, SUITE, rootfs, mirror],
        { maxBuffer: MAX_BUFFER, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" } },
      ).catch(async (error: unknown) => {
        const log = await readFile(join(rootfs, "debootstrap/debootstrap.log"), "utf8").catch(() => "");
        throw new Error(`debootstrap failed: ${log.split("\n").slice(-10).join("\n")}`, { cause: error });
      });
      await unmountUnder(rootfs);
      // Downloaded packages and apt lists are not needed in the image.
      for (const sub of ["var/cache/apt/archives", "var/lib/apt/lists"]) {
        for (const entry of await readdir(join(rootfs, sub)).catch(() => [] as string[])) {
          if (entry !== "partial" && entry !== "lock") await rm(join(rootfs, sub, entry), { force: true });
        }
      }
      const partial = join(work, "rootfs.tar");
      await run("tar", [
        "--numeric-owner",
        "--exclude=./proc/*",
        "--exclude=./sys/*",
        "--exclude=./dev/*",
        "-C",
        rootfs,
        "-cf",
        partial,
        ".",
      ]);
      await rename(partial, tarball);
      return tarball;
    } finally {
      await unmountUnder(rootfs);
      await rm(work, { recursive: true, force: true });
    }
  });
}

/** Whether the engine has the image (404 is no; any other error is thrown). */
export async function hasImage(docker: Dockerode, ref: string): Promise<boolean> {
  return docker
    .getImage(ref)
    .inspect()
    .then(
      () => true,
      (error: { statusCode?: number }) => {
        if (error.statusCode === 404) return false;
        throw error;
      },
    );
}

/** Follows a build/import progress stream to its end; rejects on the first `error` message. */
function followProgress(docker: Dockerode, stream: NodeJS.ReadableStream): Promise<string[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, output: Array<Record<string, unknown>>) => {
      if (error) return reject(error);
      const failed = output.find((m) => m.error);
      if (failed) return reject(new Error(`docker: ${String(failed.error)}`));
      resolve(output.map((m) => String(m.stream ?? m.status ?? "")));
    });
  });
}

function shortHash(...parts: (string | Buffer)[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex").slice(0, 12);
}

/** `orchestrator-base:bookworm-<hash of the package list>`. */
export function baseImageTag(): string {
  return `${BASE_REPO}:${SUITE}-${shortHash(PACKAGES.join(","))}`;
}

/**
 * The worker image tag for the current Dockerfile, base, host Node and CA bundle (the image carries
 * copies of them, so a new Node, npm or bundle must rebuild): `orchestrator-worker:<12 hex>`.
 */
export async function workerImageTag(): Promise<string> {
  const dockerfile = await readFile(join(WORKER_DOCKERFILE_DIR, "Dockerfile"));
  const node = await findHostNode();
  const staged = `${process.arch} node ${node.nodeVersion} npm ${node.npmVersion}`;
  const trust = await readFile(HOST_CA_BUNDLE).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return ""; // no bundle there: the image keeps Debian's
    throw error;
  });
  return `${WORKER_REPO}:${shortHash(dockerfile, baseImageTag(), staged, trust)}`;
}

/**
 * Returns the tag of the worker image, building it in `docker` when missing: the cached base
 * tarball is imported as `orchestrator-base:bookworm-<hash>` (also tagged `orchestrator-base:bookworm`),
 * then the worker image is built on it with this host's Node. Never contacts a registry.
 */
export async function ensureWorkerImage(docker: Dockerode): Promise<string> {
  const tag = await workerImageTag();
  if (await hasImage(docker, tag)) return tag;
  const base = baseImageTag();
  if (!(await hasImage(docker, base))) {
    const tarball = await ensureBaseTarball();
    const size = (await stat(tarball)).size;
    if (size === 0) throw new Error(`empty base tarball ${tarball}`);
    const stream = await docker.importImage(tarball, {
      repo: BASE_REPO,
      tag: base.slice(BASE_REPO.length + 1),
    });
    await followProgress(docker, stream);
    // The plain name the Dockerfile defaults to points at the newest base.
    await docker.getImage(base).tag({ repo: BASE_REPO, tag: SUITE });
  }
  await buildWorkerImage({ docker, tag, base });
  await pruneOldImages(docker, [tag, base]);
  return tag;
}

/** Removes worker and base images of earlier Dockerfiles or package sets, so data roots stay small. */
async function pruneOldImages(docker: Dockerode, keep: string[]): Promise<void> {
  const images = await docker.listImages();
  for (const image of images) {
    const tags = image.RepoTags ?? [];
    const ours = tags.some((t) => t.startsWith(`${WORKER_REPO}:`) || t.startsWith(`${BASE_REPO}:`));
    if (!ours || tags.some((t) => keep.includes(t))) continue;
    await docker
      .getImage(image.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
  // Bases that lost their tags to a newer import are dangling now.
  await docker.pruneImages().catch(() => undefined);
}
