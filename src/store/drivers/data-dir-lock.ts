import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../../contracts/index.js";

/**
 * PGlite's files must be opened by one process at a time, and PGlite does not enforce it: a pid
 * file does. A lock left by a dead process is taken over.
 */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, "orchestrator.pid");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number.parseInt(readFileSync(file, "utf8"), 10);
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new AppError(
        "conflict",
        "data_dir_in_use",
        `the embedded database in ${dir} is in use by process ${holder}`,
        {
          details: [
            { path: "ORCHESTRATOR_DATA_DIR", message: "stop that process first, or work through its API" },
          ],
        },
      );
    }
    rmSync(file, { force: true });
  }
  throw new AppError("conflict", "data_dir_in_use", `could not lock ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
