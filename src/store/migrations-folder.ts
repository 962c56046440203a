import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The generated SQL migrations live in `src/store/migrations` (tsc does not copy .sql files to
 * `dist/`), so find the package root by walking up from this file and look there.
 */
export function migrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) {
      const folder = join(dir, "src", "store", "migrations");
      if (existsSync(join(folder, "meta", "_journal.json"))) return folder;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`store migrations folder not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
