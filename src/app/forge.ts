import type { Bus } from "../bus/index.js";
import { type Config, ConfigError } from "../config/index.js";
import {
  AppError,
  DeployRunResult,
  EngineeringRunResult,
  nullIfNotFound,
  type Run,
  type RunEvent,
  TEMPLATE_MANIFEST_FILE,
  TemplateManifest,
} from "../contracts/index.js";
import { RunEventSubscriber } from "../events/index.js";
import { GithubForge, LocalForge, type ServedForge, writeCiSecrets } from "../git/index.js";
import type { Logger } from "../observability/index.js";
import type { SecretsService } from "../secrets/index.js";
import type { Store } from "../store/index.js";

/**
 * The forge `FORGE` names. Local: bare repositories in the data directory. GitHub: the token is
 * checked and the owner found to be its user or an organisation now, so a wrong token or owner
 * stops the start naming the variable. Either way workers reach repositories through the API
 * (`WORKER_API_URL`) with their own token.
 */
export async function buildForge(config: Config): Promise<ServedForge> {
  const settings = config.forge;
  if (settings.kind === "local") {
    return new LocalForge({ dataDir: config.dataDir, baseUrl: config.workers.apiUrl });
  }
  let owner: Awaited<ReturnType<typeof GithubForge.resolveOwner>>;
  try {
    owner = await GithubForge.resolveOwner({
      token: settings.token,
      apiBaseUrl: settings.apiUrl,
      login: settings.owner,
    });
  } catch (error) {
    if (error instanceof AppError && error.code === "github_unauthorized") {
      throw new ConfigError([{ variable: "GITHUB_TOKEN", message: "GitHub refused this token" }]);
    }
    if (error instanceof AppError && error.kind === "not_found") {
      throw new ConfigError([
        { variable: "GITHUB_OWNER", message: "neither the token's user nor an organisation the token sees" },
      ]);
    }
    throw new AppError(
      "unavailable",
      "github_unavailable",
      `GitHub (GITHUB_API_URL ${settings.apiUrl}) cannot be reached`,
      {
        cause: error,
      },
    );
  }
  return new GithubForge({
    token: settings.token,
    owner,
    apiBaseUrl: settings.apiUrl,
    gitBaseUrl: settings.gitUrl,
    workerBaseUrl: config.workers.apiUrl,
  });
}

/** The durable subscriber name (its cursor and bus consumer group). */
export const GITHUB_CI_SECRETS = "github-ci-secrets";

/** What writing a project's CI secrets needs. */
export interface CiSecretsDeps {
  store: Store;
  bus: Bus;
  logger: Logger;
  forge: GithubForge;
  secrets: SecretsService;
}

/** The commit a succeeded engineering or deploy run stands for, if any. */
function commitOf(run: Run): string | null {
  const result =
    run.kind === "engineering"
      ? EngineeringRunResult.safeParse(run.result)
      : DeployRunResult.safeParse(run.result);
  return result.success ? (result.data.commit ?? null) : null;
}

/**
 * After each green engineering run and each succeeded deploy, writes the project's CI secrets
 * (manifest variables marked `ci`, at that run's commit) as sealed Actions secrets of its GitHub
 * repository. A deploy succeeds only with its secrets filled, so what the CI needs is there by then;
 * writing again is harmless (at-least-once delivery). Logs names, never values.
 */
export async function writeCiSecretsAfterRun(deps: CiSecretsDeps, event: RunEvent): Promise<void> {
  if (event.type !== "run.status_changed" || event.data.to !== "succeeded") return;
  const run = await deps.store.runs.get(event.runId).catch(nullIfNotFound);
  if (run?.status !== "succeeded" || run.kind === "provision") return;
  const commit = commitOf(run);
  const project = await deps.store.projects.get(run.projectId).catch(nullIfNotFound);
  if (!commit || !project) return;
  const repo = { name: project.slug };
  const text = await deps.forge.readFile(repo, commit, TEMPLATE_MANIFEST_FILE).catch(nullIfNotFound);
  let manifest: TemplateManifest;
  try {
    manifest = TemplateManifest.parse(JSON.parse(text ?? ""));
  } catch {
    return; // no manifest (or not one): nothing declares CI secrets
  }
  const outcome = await writeCiSecrets(deps.forge, repo, manifest, (name) =>
    deps.secrets.get(project.id, name),
  );
  if (outcome.written.length > 0 || outcome.missing.length > 0) {
    deps.logger.info(
      { projectId: project.id, runId: run.id, ...outcome },
      "CI secrets written to GitHub Actions",
    );
  }
}

/** The subscriber that keeps GitHub Actions secrets in step with green runs; the engine role runs it. */
export function ciSecretsSubscriber(deps: CiSecretsDeps): RunEventSubscriber {
  return new RunEventSubscriber({
    name: GITHUB_CI_SECRETS,
    types: ["run.status_changed"],
    handle: (event) => writeCiSecretsAfterRun(deps, event),
    store: deps.store,
    bus: deps.bus,
    logger: deps.logger,
  });
}
