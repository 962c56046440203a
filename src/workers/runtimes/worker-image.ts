/**
 * Builds the worker image of the docker runtime (`ops/worker/Dockerfile`). The image carries the
 * Node and npm of the orchestrator that builds it: agents and the Tester run `npm install`,
 * `npm test` and the template's acceptance command inside the container, and the Node a Debian base
 * offers is older than the one the templates need. So the build stages a context holding the
 * Dockerfile plus this host's Node installation (`node/bin/node`, `node/lib/node_modules/npm`),
 * which the Dockerfile copies to /usr/local, and this host's CA bundle (`trust/`), so that npm in a
 * container trusts what it trusts on the host, as on the process runtime (an egress proxy's CA).
 */
import { execFile } from "node:child_process";
import { access, copyFile, cp, mkdir, mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type Dockerode from "dockerode";
import { pack } from "tar-fs";
import { AppError } from "../../contracts/index.js";
import { dockerError } from "./docker-runtime-errors.js";

const run = promisify(execFile);

/** `ops/worker/` of this package (the same three levels up from src/ and from dist/). */
export const WORKER_DOCKERFILE_DIR = fileURLToPath(new URL("../../../ops/worker/", import.meta.url));
/** The context entries the Dockerfile reads: itself, the staged Node prefix and the trust folder. */
const CONTEXT_ENTRIES = ["Dockerfile", "node", "trust"];
/** Where Debian (and OpenSSL's default) keep the system CA bundle; the image's own is at this path. */
export const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
/** A build from a registry base runs apt-get; past this the build is abandoned. */
const BUILD_DEADLINE_MS = 20 * 60_000;
const VERSION_TIMEOUT_MS = 10_000;

/** The Node installation copied into the image. */
export interface HostNode {
  /** The real path of the node binary (symlinks resolved). */
  binary: string;
  /** npm's package directory (`<prefix>/lib/node_modules/npm`). */
  npmDir: string;
  /** `v20.19.0` */
  nodeVersion: string;
  /** `10.8.2` */
  npmVersion: string;
}

/**
 * Finds the node binary of `execPath` and npm beside it: `<prefix>/lib/node_modules/npm`, where the
 * prefix is two levels above the binary (tried for the path as given and with symlinks resolved, as
 * with a version manager's shim). Throws `unavailable/npm_not_found` naming every place it looked.
 */
export async function findHostNode(execPath: string = process.execPath): Promise<HostNode> {
  let binary: string;
  try {
    binary = await realpath(execPath);
  } catch (cause) {
    throw new AppError("unavailable", "node_not_found", `node binary ${execPath} is not readable`, { cause });
  }
  const prefixes = [...new Set([dirname(dirname(execPath)), dirname(dirname(binary))])];
  const candidates = prefixes.map((prefix) => join(prefix, "lib", "node_modules", "npm"));
  for (const npmDir of candidates) {
    const version = await npmVersionIn(npmDir);
    if (version === null) continue;
    return { binary, npmDir, nodeVersion: await nodeVersionOf(binary), npmVersion: version };
  }
  throw new AppError(
    "unavailable",
    "npm_not_found",
    `npm not found beside node ${execPath}: looked for its package in ${candidates.join(", ")}`,
  );
}

/** npm's version from `<dir>/package.json`, or null when the directory is not npm's package. */
async function npmVersionIn(dir: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(join(dir, "package.json"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new AppError("unavailable", "npm_not_found", `cannot read ${join(dir, "package.json")}`, {
      cause: error,
    });
  }
  const manifest = JSON.parse(text) as { name?: unknown; version?: unknown };
  return manifest.name === "npm" && typeof manifest.version === "string" ? manifest.version : null;
}

/** Asks the binary itself: the staged node need not be the one running this code. */
async function nodeVersionOf(binary: string): Promise<string> {
  try {
    const { stdout } = await run(binary, ["--version"], { timeout: VERSION_TIMEOUT_MS });
    return stdout.trim();
  } catch (cause) {
    throw new AppError("unavailable", "node_not_found", `node binary ${binary} does not run`, { cause });
  }
}

/**
 * Fills `dir` with the build context: the Dockerfile, `node/bin/node`, `node/lib/node_modules/npm`
 * (symlinks inside npm's package kept as they are) and `trust/ca-certificates.crt` when `caBundle`
 * exists (an empty `trust/` otherwise: the image keeps Debian's bundle). Returns the entries to send.
 */
export async function stageWorkerContext(
  node: HostNode,
  dir: string,
  caBundle: string = HOST_CA_BUNDLE,
): Promise<string[]> {
  await copyFile(join(WORKER_DOCKERFILE_DIR, "Dockerfile"), join(dir, "Dockerfile"));
  await mkdir(join(dir, "node", "bin"), { recursive: true });
  await copyFile(node.binary, join(dir, "node", "bin", "node"));
  await cp(node.npmDir, join(dir, "node", "lib", "node_modules", "npm"), {
    recursive: true,
    verbatimSymlinks: true,
  });
  await mkdir(join(dir, "trust"));
  if (await exists(caBundle)) await copyFile(caBundle, join(dir, "trust", "ca-certificates.crt"));
  return CONTEXT_ENTRIES;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new AppError("unavailable", "ca_bundle_unreadable", `cannot read ${path}`, { cause: error });
  }
}

export interface BuildWorkerImageOptions {
  docker: Dockerode;
  /** The tag to build, e.g. `orchestrator-worker:latest`. */
  tag: string;
  /** The `BASE` build argument; unset keeps the Dockerfile's default (`orchestrator-base:bookworm`). */
  base?: string;
  /** The Node installation to copy in; default the one running this process. */
  node?: HostNode;
  /** Each line of the engine's build output, as it arrives. */
  onProgress?: (line: string) => void;
  deadlineMs?: number;
}

export interface BuiltWorkerImage {
  tag: string;
  /** The image id (`sha256:…`). */
  id: string;
  nodeVersion: string;
  npmVersion: string;
}

/**
 * Stages the context, builds it in `docker` as `tag` and checks the image exists. A failed step is
 * `unavailable/worker_image_build_failed` with the engine's message; an engine that cannot be
 * reached is `docker_unreachable`; a build past its deadline is `worker_image_build_timeout`.
 */
export async function buildWorkerImage(options: BuildWorkerImageOptions): Promise<BuiltWorkerImage> {
  const { docker, tag } = options;
  const node = options.node ?? (await findHostNode());
  // Fail fast on an engine that is not there, before copying Node into a context for it.
  await docker.ping().catch((error: unknown) => {
    throw dockerError(error, "ping");
  });
  const dir = await mkdtemp(join(tmpdir(), "orch-worker-image-"));
  try {
    const entries = await stageWorkerContext(node, dir);
    const deadlineMs = options.deadlineMs ?? BUILD_DEADLINE_MS;
    const abort = AbortSignal.timeout(deadlineMs);
    // Our own tar stream, uncompressed: its errors are ours to handle, and it is stopped before the
    // staged folder goes (an engine that fails early leaves it half read).
    const context = pack(dir, { entries });
    let packError: unknown = null;
    context.on("error", (error) => {
      packError ??= error;
    });
    try {
      const stream = await docker.buildImage(context, {
        t: tag,
        rm: true,
        forcerm: true,
        buildargs: options.base ? { BASE: options.base } : {},
        abortSignal: abort,
      });
      await followBuild(docker, stream, tag, options.onProgress);
    } catch (error) {
      if (packError !== null) {
        throw new AppError(
          "unavailable",
          "worker_image_build_failed",
          `cannot send the build context of ${tag}`,
          {
            cause: packError,
          },
        );
      }
      if (abort.aborted) {
        throw new AppError(
          "unavailable",
          "worker_image_build_timeout",
          `building ${tag} took longer than ${Math.round(deadlineMs / 1000)} s`,
          { cause: error },
        );
      }
      throw dockerError(error, "build image");
    } finally {
      context.destroy();
    }
    let id: string;
    try {
      id = (await docker.getImage(tag).inspect()).Id;
    } catch (error) {
      throw dockerError(error, `inspect ${tag} after its build`);
    }
    return { tag, id, nodeVersion: node.nodeVersion, npmVersion: node.npmVersion };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Follows the build output to its end; the engine reports a failed step as an `error` message. */
function followBuild(
  docker: Dockerode,
  stream: NodeJS.ReadableStream,
  tag: string,
  onProgress?: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: string | null = null;
    docker.modem.followProgress(
      stream,
      (error: Error | null) => {
        if (error) return reject(error);
        if (failure !== null) {
          return reject(
            new AppError("unavailable", "worker_image_build_failed", `building ${tag} failed: ${failure}`),
          );
        }
        resolve();
      },
      (message: { stream?: string; status?: string; error?: string }) => {
        if (message.error !== undefined) failure ??= String(message.error).trim();
        const text = message.stream ?? message.status ?? message.error ?? "";
        for (const line of text.split("\n")) if (line.trim() !== "") onProgress?.(line.trimEnd());
      },
    );
  });
}
