import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppError, type ComposeCommand, type TemplateManifest } from "../../../contracts/index.js";
import type { GitAccess } from "../../../git/index.js";
import type { Logger } from "../../../observability/index.js";
import { tail } from "./helpers.js";
import { composeProjectName, DOCKERIGNORE, dockerfileText } from "./remote-files.js";
import { type ReleaseRecord, releaseIdFor } from "./remote-layout.js";
import type { RemoteProject } from "./remote-project.js";
import { archiveCommit } from "./source-archive.js";

/** What building one release on a server needs. */
export interface RemoteBuildSpec {
  remote: RemoteProject;
  compose: ComposeCommand;
  commit: string;
  source: GitAccess;
  manifest: TemplateManifest;
  baseImage: string;
  buildNetwork: string | null;
  buildTimeoutMs: number;
  logger: Logger;
}

/**
 * The build runbook: upload the commit's `git archive` into a new release folder, unpack it, write
 * the Compose file and the generated Dockerfile, build the image, then write `release.json` (which
 * makes the release exist). A failure removes the half-built folder and the build's stray layers.
 */
export async function buildRemoteRelease(spec: RemoteBuildSpec): Promise<ReleaseRecord> {
  const { remote, compose, commit, manifest } = spec;
  const { layout, commands, projectId } = remote;
  const id = releaseIdFor(commit, new Date());
  const image = `${composeProjectName(projectId)}:${id}`;
  const log = spec.logger.child({ projectId, release: id, server: remote.server.handle });
  log.info("release build started");
  const scratch = await mkdtemp(join(tmpdir(), "orch-ssh-release-"));
  try {
    const archive = await archiveCommit(spec.source, commit, scratch);
    await remote.must(commands.mkdir(layout.file(id, "app")));
    await remote.upload(layout.file(id, "source.tar"), archive, 0o644);
    await remote.must(commands.extractSource(id));
    await remote.must(commands.removeFile(layout.file(id, "source.tar")));
    const release = { id, commit, image, manifest, port: null, env: {}, buildNetwork: spec.buildNetwork };
    await remote.writeReleaseFiles(release, compose);
    const dockerfile = dockerfileText({
      baseImage: spec.baseImage,
      manifest,
      projectId,
      releaseId: id,
      commit,
    });
    await remote.upload(layout.file(id, "Dockerfile"), Buffer.from(dockerfile), 0o644);
    await remote.upload(layout.file(id, ".dockerignore"), Buffer.from(DOCKERIGNORE), 0o644);
    const built = await remote.run(commands.composeBuild(compose, id, spec.buildTimeoutMs));
    if (built.code !== 0) {
      throw new AppError("invalid", "build_failed", `building release ${id} failed (exit ${built.code})`, {
        details: [{ path: "commands", message: tail(`${built.stdout}\n${built.stderr}`) }],
      });
    }
    const record: ReleaseRecord = { id, projectId, commit, image, builtAt: new Date().toISOString() };
    await remote.upload(
      layout.file(id, "release.json"),
      Buffer.from(`${JSON.stringify(record, null, 2)}\n`),
      0o644,
    );
    log.info("release built");
    return record;
  } catch (error) {
    log.warn({ err: error }, "release build failed");
    await remote.must(commands.removeTree(layout.releaseDir(id))).catch(() => undefined);
    await remote.pruneDanglingImages().catch(() => undefined);
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
