import { chmod, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import { extname, join, relative } from "node:path";
import {
  AppError,
  parseOrThrow,
  TEMPLATE_MANIFEST_FILE,
  type TemplateManifest,
  TemplateVariables,
} from "../contracts/index.js";
import { getTemplate, type TemplateSource } from "./builtin.js";
import { manifestText } from "./manifest.js";

/** Folders never copied out of a template: VCS data and build output of a local try-out. */
const SKIPPED_DIRS = new Set([".git", "node_modules", "dist"]);

/** How a value is escaped per file extension: as JSON string content, or as JS/TS string content. */
const ESCAPING: Record<string, Escaping> = {
  ".json": "json",
  ".ts": "code",
  ".tsx": "code",
  ".mts": "code",
  ".js": "code",
  ".mjs": "code",
  ".cjs": "code",
  ".jsx": "code",
};

/** `raw` text as is; `json` string content; `code` string content also safe inside a template literal. */
export type Escaping = "raw" | "json" | "code";

/** What `renderTemplate` needs: a built-in name or a loaded source, a target folder and the variables. */
export interface RenderOptions {
  template: string | TemplateSource;
  /** Exact version to render; a mismatch is `not_found` rather than a silent other version. */
  version?: string;
  /** Target folder: created when missing, must be empty when present. */
  into: string;
  variables: TemplateVariables;
}

/**
 * Copies a template's files into `into`, substituting `{{projectName}}`, `{{slug}}` and
 * `{{description}}` in text files (binary files and symlinks are copied as they are), writes the
 * validated manifest as `orchestrator.json`, and returns that manifest. Other `{{...}}` text (e.g.
 * GitHub Actions expressions) is left alone. In JSON and JS/TS files the values are escaped as
 * string content, so a description with quotes cannot break `package.json` or a string literal.
 */
export async function renderTemplate(options: RenderOptions): Promise<TemplateManifest> {
  const variables = parseOrThrow(TemplateVariables, options.variables, "template variables");
  const source =
    typeof options.template === "string"
      ? await getTemplate(options.template, options.version)
      : options.template;
  if (options.version !== undefined && options.version !== source.version) {
    throw new AppError(
      "not_found",
      "template_version_not_found",
      `template ${source.name} is at version ${source.version}, not ${options.version}`,
      { details: [{ path: "version", message: `available: ${source.version}` }] },
    );
  }
  await ensureEmptyDir(options.into);
  await copyTree(source.dir, options.into, source.dir, variables);
  await writeFile(join(options.into, TEMPLATE_MANIFEST_FILE), manifestText(source.manifest));
  return source.manifest;
}

/** Replaces the known placeholders in `text`, escaping each value as `escaping` says. */
export function substitute(text: string, variables: TemplateVariables, escaping: Escaping = "raw"): string {
  return text.replace(/\{\{(projectName|slug|description)\}\}/g, (_match, key: keyof TemplateVariables) => {
    const value = variables[key];
    if (escaping === "raw") return value;
    const json = JSON.stringify(value).slice(1, -1);
    return escaping === "json" ? json : json.replace(/[`$]/g, "\\$&");
  });
}

async function ensureEmptyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir);
  if (entries.length > 0) {
    throw new AppError("conflict", "render_target_not_empty", `cannot render into ${dir}: it is not empty`, {
      details: [{ path: "into", message: `contains ${entries.slice(0, 5).join(", ")}` }],
    });
  }
}

async function copyTree(from: string, to: string, root: string, variables: TemplateVariables): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      if (SKIPPED_DIRS.has(entry.name)) continue;
      await mkdir(target, { recursive: true });
      await copyTree(source, target, root, variables);
    } else if (entry.isSymbolicLink()) {
      // Recreated as a link, never followed: a template cannot pull host files into a repository.
      await symlink(await readlink(source), target);
    } else if (entry.isFile()) {
      if (from === root && entry.name === TEMPLATE_MANIFEST_FILE) continue;
      await copyFile(source, target, variables);
    } else {
      throw new AppError(
        "invalid",
        "template_bad_file",
        `unsupported file type in template: ${relative(root, source)}`,
      );
    }
  }
}

async function copyFile(source: string, target: string, variables: TemplateVariables): Promise<void> {
  const bytes = await readFile(source);
  const text = asText(bytes);
  if (text?.includes("{{")) {
    await writeFile(target, substitute(text, variables, ESCAPING[extname(source)] ?? "raw"));
  } else {
    await writeFile(target, bytes);
  }
  await chmod(target, (await lstat(source)).mode & 0o777);
}

/** The file as UTF-8 text, or undefined when it looks binary (a NUL byte or invalid UTF-8). */
function asText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
