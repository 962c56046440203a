/**
 * A Node base image for the `ssh-compose` deploy suites, made without any registry: the cached
 * debootstrap root filesystem of `worker-image.ts` is imported as the Debian base, and this
 * machine's own `node` binary and npm are copied in (Node's official Linux builds link only to
 * glibc and libstdc++, which the base holds), with this machine's CA bundle so that npm trusts
 * what the host trusts (an egress proxy here). The image stays in the engine's data root, which
 * persists between runs; only a fresh data root pays for the import and the copy (seconds).
 * Production uses a registry image instead (the driver's default, `node:20-bookworm-slim`).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type Dockerode from "dockerode";
import { BASE_REPO, baseImageTag, ensureBaseTarball, hasImage } from "./worker-image.js";

const run = promisify(execFile);
const DEPLOY_BASE_REPO = "orchestrator-deploy-base";
const NPM_DIR = join(dirname(dirname(process.execPath)), "lib", "node_modules", "npm");

/** This machine's CA bundle: it may trust an egress proxy's CA that Debian's bundle lacks. */
const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

const DOCKERFILE = `ARG BASE
FROM \${BASE}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && chmod 1777 /tmp \\
 && node --version && npm --version
`;

function followProgress(docker: Dockerode, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, output: Array<Record<string, unknown>>) => {
      if (error) return reject(error);
      const failed = output.find((m) => m.error);
      if (failed) return reject(new Error(`docker: ${String(failed.error)}`));
      resolve();
    });
  });
}

/** `orchestrator-deploy-base:<hash of base, node version and npm version>`. */
export async function deployBaseImageTag(): Promise<string> {
  const npm = JSON.parse(await readFile(join(NPM_DIR, "package.json"), "utf8")) as { version: string };
  const hash = createHash("sha256")
    .update(
      [baseImageTag(), process.version, npm.version, DOCKERFILE, await readFile(HOST_CA_BUNDLE, "utf8")].join(
        "\n",
      ),
    )
    .digest("hex")
    .slice(0, 12);
  return `${DEPLOY_BASE_REPO}:${hash}`;
}

/** Imports the Debian base into `docker` when missing (from the cached debootstrap tarball). */
async function ensureDebianBase(docker: Dockerode): Promise<string> {
  const base = baseImageTag();
  if (await hasImage(docker, base)) return base;
  const tarball = await ensureBaseTarball();
  if ((await stat(tarball)).size === 0) throw new Error(`empty base tarball ${tarball}`);
  const stream = await docker.importImage(tarball, {
    repo: BASE_REPO,
    tag: base.slice(BASE_REPO.length + 1),
  });
  await followProgress(docker, stream);
  return base;
}

/** Returns the tag of the Node base image, building it in `docker` when missing. Never contacts a registry. */
export async function ensureDeployBaseImage(docker: Dockerode): Promise<string> {
  const tag = await deployBaseImageTag();
  if (await hasImage(docker, tag)) return tag;
  if (!existsSync(NPM_DIR))
    throw new Error(`npm not found at ${NPM_DIR} (expected beside ${process.execPath})`);
  const base = await ensureDebianBase(docker);
  const context = await mkdtemp(join(tmpdir(), "orch-deploy-image-"));
  try {
    await writeFile(join(context, "Dockerfile"), DOCKERFILE);
    await cp(process.execPath, join(context, "node"));
    await cp(NPM_DIR, join(context, "npm"), { recursive: true });
    await cp(HOST_CA_BUNDLE, join(context, "ca-certificates.crt"));
    const archive = `${context}.tar`;
    await run("tar", ["-C", context, "-cf", archive, "."]);
    try {
      const stream = await docker.buildImage(createReadStream(archive), {
        t: tag,
        rm: true,
        forcerm: true,
        buildargs: { BASE: base },
      });
      await followProgress(docker, stream);
    } finally {
      await rm(archive, { force: true });
    }
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  if (!(await hasImage(docker, tag))) throw new Error(`docker build finished but ${tag} is missing`);
  // Bases of an earlier node, npm or CA bundle only take space in the data root now.
  for (const image of await docker.listImages({ filters: { reference: [DEPLOY_BASE_REPO] } })) {
    if ((image.RepoTags ?? []).includes(tag)) continue;
    await docker
      .getImage(image.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
  return tag;
}
