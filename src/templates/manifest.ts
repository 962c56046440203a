import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError, detailsFromZod, TEMPLATE_MANIFEST_FILE, TemplateManifest } from "../contracts/index.js";

/**
 * Validates a parsed manifest. A bad one is an `invalid` AppError (`template_manifest_invalid`)
 * whose message names the file and the first bad fields, and whose details list every field path.
 */
export function parseManifest(raw: unknown, where: string): TemplateManifest {
  const result = TemplateManifest.safeParse(raw);
  if (result.success) return result.data;
  const details = detailsFromZod(result.error);
  const summary = details
    .slice(0, 5)
    .map((d) => `${d.path || "(root)"}: ${d.message}`)
    .join("; ");
  const more = details.length > 5 ? ` (and ${details.length - 5} more)` : "";
  throw new AppError(
    "invalid",
    "template_manifest_invalid",
    `invalid template manifest ${where}: ${summary}${more}`,
    {
      details,
      cause: result.error,
    },
  );
}

/**
 * Reads and validates `orchestrator.json` at the root of `dir` (a template or a rendered repo).
 * Missing file and bad JSON are `invalid` errors of their own codes, so callers can say which.
 */
export async function readManifest(dir: string): Promise<TemplateManifest> {
  const file = join(dir, TEMPLATE_MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (cause) {
    throw new AppError("invalid", "template_manifest_missing", `no ${TEMPLATE_MANIFEST_FILE} in ${dir}`, {
      details: [{ path: TEMPLATE_MANIFEST_FILE, message: "file not found" }],
      cause,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new AppError("invalid", "template_manifest_invalid_json", `${file} is not valid JSON`, {
      details: [{ path: "", message: cause instanceof Error ? cause.message : String(cause) }],
      cause,
    });
  }
  return parseManifest(raw, `in ${file}`);
}

/** The manifest as written into a rendered repository: defaults filled in, stable formatting. */
export function manifestText(manifest: TemplateManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
