import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { type ProjectLayout, readRecord } from "./layout.js";

/** How much of a log file `tailFile` reads at most. */
const LOG_TAIL_BYTES = 1024 * 1024;

/** The recorded release's log, else the most recently written one (null: none yet). */
export async function lastLogFile(layout: ProjectLayout): Promise<string | null> {
  const recorded = (await readRecord(layout.recordFile))?.release;
  if (recorded) return layout.logFile(recorded);
  let names: string[];
  try {
    names = (await readdir(layout.logsDir)).filter((name) => name.endsWith(".log"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  let newest: { file: string; mtimeMs: number } | null = null;
  for (const name of names) {
    const file = join(layout.logsDir, name);
    const { mtimeMs } = await stat(file);
    if (!newest || mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
  }
  return newest?.file ?? null;
}

/** The last `lines` lines of a file (reading at most its last megabyte); [] when it does not exist. */
export async function tailFile(file: string, lines: number): Promise<string[]> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, LOG_TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const all = buffer.toString("utf8").split("\n");
    if (all.at(-1) === "") all.pop();
    if (length < size) all.shift(); // the first line may be cut
    return all.slice(-lines);
  } finally {
    await handle.close();
  }
}
