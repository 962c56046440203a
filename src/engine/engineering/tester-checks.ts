import { AppError, TEMPLATE_MANIFEST_FILE, type TestRedReason } from "../../contracts/index.js";
import { parseManifest } from "../../templates/index.js";
import { isUnder, parseNameStatus } from "./acceptance.js";

/** Runs git in a checkout; the Tester passes its sandbox's `exec`, tests a local one. */
export type GitRunner = (
  args: string[],
) => Promise<{ exitCode: number | null; stdout: string; stderr: string }>;

/** What the Tester learns about a reported commit before running anything. */
export interface CommitInspection {
  /** Why the commit is red without running its tests, or null. `acceptance_changed` still runs them. */
  reason: Extract<TestRedReason, "no_change" | "not_descendant" | "docs_only" | "acceptance_changed"> | null;
  message: string | null;
  /** Acceptance files the commit added, changed or deleted, as `path (added|changed|deleted)`. */
  changedAcceptance: string[];
}

const DOC_FILE = /\.(md|markdown|mdx|rst|adoc|txt)$/i;
const DOC_NAME =
  /^(license|licence|copying|notice|authors|contributors|changelog|changes|history)(\.[^/]*)?$/i;
const DOC_DIR = /^(docs?|documentation)\//i;

/** True for a file that documents rather than implements: Markdown and text, docs folders, licence files. */
export function isDocumentation(path: string): boolean {
  const name = path.split("/").at(-1) ?? path;
  return DOC_FILE.test(path) || DOC_NAME.test(name) || DOC_DIR.test(path);
}

const VERB = { A: "added", M: "changed", D: "deleted", T: "changed" } as const;

/**
 * Checks a reported commit (on the remote branch, present in the checkout) against the prepared
 * commit: it must descend from it strictly, leave the acceptance folder as prepared, and change
 * more than documentation.
 */
export async function inspectCommit(
  git: GitRunner,
  opts: { prepared: string; commit: string; acceptanceDir: string },
): Promise<CommitInspection> {
  const { prepared, commit, acceptanceDir } = opts;
  const red = (reason: NonNullable<CommitInspection["reason"]>, message: string, changed: string[] = []) => ({
    reason,
    message,
    changedAcceptance: changed,
  });
  if (commit === prepared) {
    return red("no_change", "the reported commit is the prepared commit: nothing was implemented");
  }
  const descends = await git(["merge-base", "--is-ancestor", prepared, commit]);
  if (descends.exitCode !== 0) {
    return red(
      "not_descendant",
      `commit ${commit} does not descend from the prepared commit ${prepared}: rebase onto it`,
    );
  }
  const diff = await git(["diff", "--name-status", "--no-renames", prepared, commit]);
  if (diff.exitCode !== 0) throw new Error(`git diff failed: ${diff.stderr.trim()}`);
  const entries = parseNameStatus(diff.stdout);
  if (entries.length === 0) {
    return red(
      "no_change",
      `commit ${commit} changes nothing since the prepared commit: nothing was implemented`,
    );
  }
  const changed = entries
    .filter((e) => isUnder(acceptanceDir, e.path))
    .map((e) => `${e.path} (${VERB[e.status]})`);
  if (changed.length > 0) {
    return red("acceptance_changed", `acceptance tests changed: ${changed.join(", ")}`, changed);
  }
  if (entries.every((e) => isDocumentation(e.path))) {
    const names = entries.map((e) => e.path).slice(0, 10);
    return red(
      "docs_only",
      `the commit changes only documentation (${names.join(", ")}): nothing was implemented`,
    );
  }
  return { reason: null, message: null, changedAcceptance: [] };
}

/**
 * What is wrong with the commit's `orchestrator.json` (missing, not JSON, or against the manifest
 * schema, each field named), or null when it is valid: the deploy reads it at this commit, so a
 * broken one must be red here rather than surface at deploy.
 */
export function checkManifest(text: string, commit: string): string | null {
  const where = `${TEMPLATE_MANIFEST_FILE} at ${commit.slice(0, 12)}`;
  if (text.trim() === "") return `${where} is missing or empty: the deploy reads it, restore it`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `${where} is not JSON: ${(error as Error).message}`;
  }
  try {
    parseManifest(json, where);
    return null;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return [error.message, ...error.details.map((d) => `- ${d.path || "(root)"}: ${d.message}`)].join("\n");
  }
}
