import type { TemplateManifest } from "../../contracts/index.js";
import type { RepositoryRef } from "../forge.js";
import type { GithubForge } from "./github-forge.js";

/** The variables of a manifest that the project's CI needs (`ci: true`), in manifest order. */
export function ciSecretNames(manifest: TemplateManifest): string[] {
  return manifest.env.filter((entry) => entry.ci === true).map((entry) => entry.name);
}

/** What `writeCiSecrets` did, by name only: values never leave it. */
export interface CiSecretsOutcome {
  written: string[];
  /** Declared for CI but without a value yet (a later run writes them once they are filled). */
  missing: string[];
}

/**
 * Writes a repository's CI secrets as GitHub Actions secrets: each `ci: true` variable of the
 * manifest, with its value from `secretValue` (the project's stored secret), sealed to the repository's
 * public key by `setActionsSecret`. Replacing is idempotent, so it may run after every green run
 * and every deploy; nothing is ever written into the repository itself.
 */
export async function writeCiSecrets(
  forge: GithubForge,
  repo: RepositoryRef,
  manifest: TemplateManifest,
  secretValue: (name: string) => Promise<string | null>,
): Promise<CiSecretsOutcome> {
  const outcome: CiSecretsOutcome = { written: [], missing: [] };
  for (const name of ciSecretNames(manifest)) {
    const value = await secretValue(name);
    if (!value) {
      outcome.missing.push(name);
      continue;
    }
    await forge.setActionsSecret(repo, name, value);
    outcome.written.push(name);
  }
  return outcome;
}
