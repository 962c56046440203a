import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AppError,
  type ExternalTemplateSource,
  parseOrThrow,
  ExternalTemplateSource as Source,
} from "../contracts/index.js";
import type { TemplateSource } from "./builtin.js";
import { readManifest } from "./manifest.js";
import { git } from "./run.js";

/** An external template checked out at its pinned commit; `cleanup` removes the checkout. */
export interface ExternalTemplate extends TemplateSource {
  commit: string;
  cleanup(): Promise<void>;
}

const FULL_SHA = /^[0-9a-f]{40}$/;

/**
 * Clones `url` into a fresh temp folder, checks out `ref` and validates its `orchestrator.json`.
 * The ref must pin the code: a full commit SHA, or a tag (a branch name is refused, since it
 * moves). A full clone then `checkout`, because `--depth 1` cannot fetch an arbitrary SHA. On any
 * failure the temp folder is removed before the error is thrown.
 */
export async function fetchExternalTemplate(input: ExternalTemplateSource): Promise<ExternalTemplate> {
  const { url, ref } = parseOrThrow(Source, input, "external template source");
  const base = await mkdtemp(join(tmpdir(), "orchestrator-template-"));
  const cleanup = () => rm(base, { recursive: true, force: true });
  try {
    const home = join(base, "home");
    const dir = join(base, "checkout");
    await git(["clone", "--quiet", "--no-checkout", "--", url, dir], { home });
    const commit = await resolvePinnedRef(dir, ref, home);
    await git(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit], {
      cwd: dir,
      home,
    });
    const manifest = await readManifest(dir);
    return {
      name: manifest.name,
      version: manifest.version,
      dir,
      manifest,
      origin: { kind: "external", url, ref, commit },
      commit,
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function resolvePinnedRef(dir: string, ref: string, home: string): Promise<string> {
  const candidates = FULL_SHA.test(ref) ? [ref] : [`refs/tags/${ref}`];
  for (const candidate of candidates) {
    try {
      return await git(["rev-parse", "--verify", "--quiet", `${candidate}^{commit}`], { cwd: dir, home });
    } catch {
      // fall through to the clear error below
    }
  }
  const isSha = FULL_SHA.test(ref);
  throw new AppError(
    "invalid",
    "template_ref_not_pinned",
    isSha
      ? `commit ${ref} is not in the template repository`
      : `${ref} is not a tag of the template repository`,
    { details: [{ path: "ref", message: "use a full 40-character commit SHA or a tag" }] },
  );
}
