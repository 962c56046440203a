import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The project's root folder (the nearest one above this file with a package.json), so `public/`
 * is found the same from `dist/src`, from the acceptance tests' build and whatever the cwd.
 */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** Static files served as they are at the site's root: `public/style.css` is `/style.css`. */
export const publicDir = (): string => join(projectRoot(), "public");
