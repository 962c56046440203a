import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, lstat, readdir, readlink, realpath } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SANDBOX_NPM_CACHE } from "./project-cache.js";

/** Where a sandbox's workspace and HOME appear to commands run inside bubblewrap. */
export const BWRAP_WORKSPACE = "/workspace";
/** HOME inside bubblewrap: the sandbox's `home/` folder, writable. */
export const BWRAP_HOME = "/home/worker";
/** The uid and gid commands run as inside the user namespace. */
export const BWRAP_UID = 1000;

/**
 * Host top-level folders shown read-only inside: the system (programs, libraries, /etc). Everything
 * else (/root, /home, /var, data folders) stays out unless passed in `bindReadOnly`; since uid 1000
 * inside maps to root outside, anything root-owned that is shown is readable.
 */
const SYSTEM_DIRS = ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "opt"];
/** Root-only files under a shown folder that must stay unreadable (masked with /dev/null, as are SSH host keys). */
const MASKED_FILES = ["/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-"];

/** What of the host the sandbox shows: scanned once per runtime, then used for every command. */
export interface HostLayout {
  /** Absolute path of the bubblewrap binary. */
  bwrap: string;
  dirs: string[];
  symlinks: { path: string; target: string }[];
  masked: string[];
  /** Extra read-only paths needed by shown files (e.g. the target of a symlinked resolv.conf). */
  extra: string[];
}

/** Paths of one command: host folders to bind and where the command starts inside. */
export interface BwrapMounts {
  hostWorkspace: string;
  hostHome: string;
  /** The project's npm cache folder, bound writable at `SANDBOX_NPM_CACHE`; null for none. */
  hostNpmCache: string | null;
  bindReadOnly: string[];
  cwd: string;
}

/** Finds `bwrap` on the orchestrator's PATH, or null. */
export async function findBwrap(): Promise<string | null> {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(delimiter)) {
    const candidate = join(dir, "bwrap");
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return null;
}

/**
 * Null when bubblewrap can make a user namespace here, else why not (it cannot in some containers),
 * from bwrap's own words after `attempts` tries.
 */
export async function probeBwrap(bwrap: string, attempts = PROBE_ATTEMPTS): Promise<string | null> {
  const args = ["--unshare-user", "--uid", String(BWRAP_UID), "--gid", String(BWRAP_UID)];
  let reason = "";
  // A busy host can refuse one namespace for a moment; a sandbox is worth asking again for.
  for (let attempt = 1; attempt <= attempts; attempt++) {
    reason = await new Promise<string>((resolve) => {
      execFile(
        bwrap,
        [...args, "--ro-bind", "/", "/", "true"],
        { timeout: 10_000, env: {} },
        (error, _out, err) => resolve(error === null ? "" : String(err).trim() || error.message),
      );
    });
    if (!reason) return null;
    if (attempt < attempts) await sleep(PROBE_RETRY_MS);
  }
  return reason;
}
const PROBE_ATTEMPTS = 3;
const PROBE_RETRY_MS = 250;

/** Reads the host's root folder to decide what the sandbox shows. */
export async function scanHostLayout(bwrap: string): Promise<HostLayout> {
  const layout: HostLayout = { bwrap, dirs: [], symlinks: [], masked: [], extra: [] };
  for (const name of (await readdir("/")).filter((n) => SYSTEM_DIRS.includes(n)).sort()) {
    const path = `/${name}`;
    const info = await lstat(path);
    if (info.isSymbolicLink()) layout.symlinks.push({ path, target: await readlink(path) });
    else if (info.isDirectory()) layout.dirs.push(path);
  }
  const hostKeys = (await readdir("/etc/ssh").catch(() => [] as string[]))
    .filter((n) => /^ssh_host_.*_key$/.test(n))
    .map((n) => `/etc/ssh/${n}`);
  for (const file of [...MASKED_FILES, ...hostKeys]) {
    const isFile = await lstat(file).then(
      (s) => s.isFile(),
      () => false,
    );
    if (isFile) layout.masked.push(file);
  }
  const resolv = await realpath("/etc/resolv.conf").catch(() => null);
  if (resolv && !isUnder(resolv, layout.dirs)) layout.extra.push(resolv);
  return layout;
}

/**
 * The bubblewrap arguments (before the command) for one command. The root is bubblewrap's own
 * tmpfs, remounted read-only at the end, so `/workspace` and `/home/worker` can be made in it;
 * `/tmp` is a fresh tmpfs (1777) mounted before any bind that lives under it.
 */
export function bwrapArgs(layout: HostLayout, mounts: BwrapMounts): string[] {
  const uid = String(BWRAP_UID);
  const args = ["--unshare-user", "--uid", uid, "--gid", uid, "--unshare-pid"];
  args.push("--die-with-parent", "--new-session");
  for (const dir of layout.dirs) args.push("--ro-bind", dir, dir);
  for (const link of layout.symlinks) args.push("--symlink", link.target, link.path);
  for (const file of layout.masked) args.push("--ro-bind", "/dev/null", file);
  args.push("--dev", "/dev", "--proc", "/proc");
  args.push("--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/var/tmp");
  args.push("--bind", mounts.hostWorkspace, BWRAP_WORKSPACE, "--bind", mounts.hostHome, BWRAP_HOME);
  if (mounts.hostNpmCache) args.push("--bind", mounts.hostNpmCache, SANDBOX_NPM_CACHE);
  const extra = [...layout.extra, ...mounts.bindReadOnly]
    .filter((p) => !isUnder(p, layout.dirs))
    .sort((a, b) => a.length - b.length);
  for (const path of new Set(extra)) args.push("--ro-bind", path, path);
  args.push("--remount-ro", "/", "--chdir", mounts.cwd);
  return args;
}

function isUnder(path: string, dirs: string[]): boolean {
  return dirs.some((d) => path === d || path.startsWith(`${d}/`));
}
