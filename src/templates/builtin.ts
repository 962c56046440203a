import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError, Slug, type TemplateManifest } from "../contracts/index.js";
import { readManifest } from "./manifest.js";

/** Where a template came from: shipped with the orchestrator, or a git repository at a pinned commit. */
export type TemplateOrigin =
  | { kind: "builtin" }
  | { kind: "external"; url: string; ref: string; commit: string };

/** A template ready to render: its folder on disk and its validated manifest. */
export interface TemplateSource {
  name: string;
  version: string;
  /** Folder whose files are copied at render time. */
  dir: string;
  manifest: TemplateManifest;
  origin: TemplateOrigin;
}

/**
 * Built-in templates live at `templates/builtin/<name>/` in the package root, outside `src/`, so the
 * root tsc and vitest never compile or run them (and `templates/biome.json` keeps biome off them):
 * they are projects of their own, copied verbatim. Found by walking up from this file, which works
 * from `src/` (tsx, vitest) and from `dist/` alike.
 */
export function builtinTemplatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "templates", "builtin");
    if (existsSync(join(dir, "package.json")) && existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new AppError("internal", "templates_missing", "built-in templates folder not found", {
        details: [
          { path: "templates/builtin", message: `not found above ${fileURLToPath(import.meta.url)}` },
        ],
      });
    }
    dir = parent;
  }
}

/** Every built-in template with its validated manifest, sorted by name. */
export async function listTemplates(): Promise<TemplateSource[]> {
  const root = builtinTemplatesDir();
  const entries = await readdir(root, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  names.sort();
  return Promise.all(names.map((name) => loadBuiltin(root, name)));
}

/**
 * One built-in template by name, optionally at an exact version. An unknown name or a version the
 * orchestrator does not ship is `not_found` (a render must never silently use another version).
 */
export async function getTemplate(name: string, version?: string): Promise<TemplateSource> {
  const root = builtinTemplatesDir();
  if (!Slug.safeParse(name).success || !existsSync(join(root, name))) {
    const known = (await readdir(root, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    throw new AppError("not_found", "template_not_found", `no built-in template named ${name}`, {
      details: [{ path: "template", message: `known templates: ${known.sort().join(", ")}` }],
    });
  }
  const template = await loadBuiltin(root, name);
  if (version !== undefined && version !== template.version) {
    throw new AppError(
      "not_found",
      "template_version_not_found",
      `template ${name} is at version ${template.version}, not ${version}`,
      { details: [{ path: "version", message: `available: ${template.version}` }] },
    );
  }
  return template;
}

async function loadBuiltin(root: string, name: string): Promise<TemplateSource> {
  const dir = join(root, name);
  const manifest = await readManifest(dir);
  if (manifest.name !== name) {
    throw new AppError(
      "internal",
      "template_name_mismatch",
      `template folder ${name} declares name ${manifest.name}`,
    );
  }
  return { name, version: manifest.version, dir, manifest, origin: { kind: "builtin" } };
}
