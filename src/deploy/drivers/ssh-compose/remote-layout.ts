import { posix } from "node:path";
import { z } from "zod";
import { AppError, Id, parseOrThrow, Timestamp } from "../../../contracts/index.js";
import { CommitSha } from "../../../git/index.js";

/** A release id: the first 12 hex digits of the commit, then the UTC build time `yyyymmddhhmmss`. */
export const ReleaseId = z
  .string()
  .regex(/^[0-9a-f]{12}-\d{14}$/, "<first 12 of the SHA>-<yyyymmddhhmmss>, e.g. 0123456789ab-20250101120000");

/** What `release.json` in a finished release folder holds (the marker that the build completed). */
export const ReleaseRecord = z.strictObject({
  id: ReleaseId,
  projectId: Id,
  commit: CommitSha,
  image: z.string().min(1),
  builtAt: Timestamp,
});
export type ReleaseRecord = z.infer<typeof ReleaseRecord>;

/** `<sha12>-<yyyymmddhhmmss>` for a build starting at `now`. */
export function releaseIdFor(commit: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `${commit.slice(0, 12)}-${stamp}`;
}

/** Absolute remote folders must be plain paths: no `..`, no whitespace, no quotes. */
const REMOTE_ROOT = /^\/(?:[A-Za-z0-9._-]+\/?)+$/;

/** Returns `root` when it is an absolute folder of plain names (no `..`); `invalid` otherwise. */
export function checkRemoteRoot(root: string): string {
  if (!REMOTE_ROOT.test(root) || root.split("/").some((part) => part === ".." || part === ".")) {
    throw new AppError("invalid", "invalid_input", `not an absolute remote folder: ${JSON.stringify(root)}`, {
      details: [{ path: "remoteRoot", message: "an absolute path of plain names, e.g. /srv/orchestrator" }],
    });
  }
  return root;
}

/**
 * Where one project lives on a server: `<root>/<projectId>/releases/<releaseId>/` (the source in
 * `app/`, the generated Dockerfile, Compose file and env files, `release.json`) and a `current`
 * symlink to the running release. Ids are validated before they become paths.
 */
export class RemoteLayout {
  readonly dir: string;
  readonly projectId: string;

  constructor(root: string, projectId: string) {
    this.projectId = parseOrThrow(Id, projectId, "project id");
    this.dir = posix.join(checkRemoteRoot(root), this.projectId);
  }

  get releasesDir(): string {
    return posix.join(this.dir, "releases");
  }
  /** The `current` symlink (relative target `releases/<id>`). */
  get currentLink(): string {
    return posix.join(this.dir, "current");
  }
  releaseDir(id: string): string {
    return posix.join(this.releasesDir, parseOrThrow(ReleaseId, id, "release id"));
  }
  file(
    id: string,
    name:
      | "app"
      | "source.tar"
      | "Dockerfile"
      | ".dockerignore"
      | "docker-compose.yml"
      | ".env"
      | "compose.env"
      | "release.json",
  ): string {
    return posix.join(this.releaseDir(id), name);
  }
}
