/**
 * What a stopped role cluster may not leave behind: worker records still live, processes started
 * from its data directories, listening ports of its deploy range, sandboxes and checkouts. Each
 * check gives one line per thing left, so a failing suite names it.
 */
import { readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";

/** Worker records the stopped cluster left in a live state. */
export async function liveWorkers(db: pg.Client): Promise<string[]> {
  const { rows } = await db.query<{ id: string; role: string; state: string }>(
    "SELECT id, role, state FROM workers WHERE state IN ('starting', 'running', 'paused')",
  );
  return rows.map((w) => `worker ${w.id} (${w.role}) still ${w.state}`);
}

/** Processes whose command line, working directory or environment mention `root`. */
export async function processesUnder(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const read = (file: string) => readFile(join("/proc", name, file), "utf8").catch(() => "");
    const [cmdline, environ, stat] = await Promise.all([read("cmdline"), read("environ"), read("stat")]);
    // A zombie is gone but for its exit status, which its parent has not read yet.
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
    const cwd = await readlink(join("/proc", name, "cwd")).catch(() => "");
    if ([cmdline, environ, cwd].some((text) => text.includes(root))) {
      found.push(`pid ${name}: ${cmdline.replaceAll("\0", " ").trim().slice(0, 200)}`);
    }
  }
  return found;
}

/** TCP ports in [low, high] something listens on (IPv4 and IPv6). */
export async function listeningPorts(low: number, high: number): Promise<number[]> {
  const ports = new Set<number>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // `0A` is LISTEN; the local address is `hex-ip:hex-port`.
      if (fields[3] !== "0A") continue;
      const port = Number.parseInt(fields[1]?.split(":")[1] ?? "", 16);
      if (port >= low && port <= high) ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** Entries (but dot files) of each folder that exist, as `folder/entry`. */
export async function entriesOf(folders: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const folder of folders) {
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names) if (!name.startsWith(".")) found.push(join(folder, name));
  }
  return found;
}
