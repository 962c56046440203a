import {
  AppError,
  type Deployment,
  LOCAL_SERVER,
  type ProjectStatus,
  ProjectStatusMachine,
  type Server,
  TEMPLATE_MANIFEST_FILE,
  type TemplateManifest,
} from "../../contracts/index.js";
import { type DeployDriver, type DeployTarget, resolveEnvironment } from "../../deploy/index.js";
import type { Store } from "../../store/index.js";
import { parseManifest } from "../../templates/index.js";
import type { DevopsDeps } from "./deps.js";
import { publicUrl } from "./state.js";

/**
 * The record of this machine as a deploy target, created ready on first use. Several engines may
 * make it at once: whoever loses a step (the creation, or a status move another engine made
 * first) reads the record again and goes on from where it stands.
 */
export async function localServer(store: Store): Promise<Server> {
  for (let attempt = 0; ; attempt++) {
    const server = (await store.servers.findByHandle(LOCAL_SERVER)) ?? (await createLocalServer(store));
    if (server.status !== "pending" && server.status !== "checking") return server;
    try {
      if (server.status === "pending") await store.servers.setStatus(server.id, "checking");
      return await store.servers.setStatus(server.id, "ready");
    } catch (error) {
      const isRace = error instanceof AppError && error.code === "illegal_transition";
      if (!isRace || attempt >= LOCAL_SERVER_ATTEMPTS) throw error;
    }
  }
}
const LOCAL_SERVER_ATTEMPTS = 5;

/** Creates the `local` record, or finds the one another engine created a moment before. */
async function createLocalServer(store: Store): Promise<Server> {
  try {
    return await store.servers.create({ handle: LOCAL_SERVER, host: "127.0.0.1", sshUser: "root" });
  } catch (error) {
    const found = await store.servers.findByHandle(LOCAL_SERVER);
    if (found) return found;
    throw error;
  }
}

/** Where the driver runs releases for the allocated `server` record, and which host its gate reaches. */
export function targetOf(driver: DeployDriver, server: Server): DeployTarget {
  return driver.target(server);
}

/** Moves a project's status when its machine allows the move; otherwise leaves it (logged by callers). */
export async function moveProject(store: Store, projectId: string, to: ProjectStatus): Promise<boolean> {
  const project = await store.projects.get(projectId);
  if (project.status === to) return true;
  if (!ProjectStatusMachine.canTransition(project.status, to)) return false;
  await store.projects.setStatus(projectId, to);
  return true;
}

/** The template manifest in the repository at `commit` (what the deploy of that commit follows). */
export async function manifestAt(deps: DevopsDeps, slug: string, commit: string): Promise<TemplateManifest> {
  const text = await deps.forge.readFile({ name: slug }, commit, TEMPLATE_MANIFEST_FILE);
  if (text === null) {
    throw new AppError(
      "invalid",
      "manifest_missing",
      `the repository has no ${TEMPLATE_MANIFEST_FILE} at ${commit}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new AppError("invalid", "manifest_invalid", `${TEMPLATE_MANIFEST_FILE} at ${commit} is not JSON`, {
      cause,
    });
  }
  return parseManifest(json, `${TEMPLATE_MANIFEST_FILE} at ${commit.slice(0, 12)}`);
}

/** The one port a release listens on (its first `allocated-port` variable), or null for a bot. */
export function mainPort(manifest: TemplateManifest, ports: Record<string, number>): number | null {
  const entry = manifest.env.find((e) => e.kind === "allocated-port");
  return entry ? (ports[entry.name] ?? null) : null;
}

/** Resolves a release's environment in memory (never stored, never logged). */
export async function environmentFor(
  deps: DevopsDeps,
  opts: { projectId: string; manifest: TemplateManifest; server: Server; ports: Record<string, number> },
) {
  const url = publicUrl(opts.manifest.healthCheck, opts.server.host, mainPort(opts.manifest, opts.ports));
  return resolveEnvironment({
    manifest: opts.manifest,
    projectId: opts.projectId,
    secrets: deps.secrets,
    computed: {
      APP_ENV: deps.appEnv,
      ...(url ? { PUBLIC_URL: url } : {}),
      ...(deps.telegramApiRoot ? { TELEGRAM_API_ROOT: deps.telegramApiRoot } : {}),
      DATA_DIR: deps.driver.dataDir(opts.projectId),
    },
    ports: opts.ports,
  });
}

/** The project's deployment serving now (the newest `healthy` one), if any. */
export async function currentDeployment(store: Store, projectId: string): Promise<Deployment | null> {
  const page = await store.deployments.list({ projectId, limit: 50, offset: 0 });
  return page.items.find((d) => d.status === "healthy") ?? null;
}

/**
 * Leaves one `read` audit row per project secret (user or generated) a deploy put into a release's
 * environment, by `deploy <runId>`: only where an environment is written for a release to run,
 * not where the environment stage resolves it to check that nothing is missing.
 */
export async function auditSecretReads(
  deps: DevopsDeps,
  opts: { projectId: string; runId: string; manifest: TemplateManifest; env: Record<string, string> },
): Promise<void> {
  const keys = opts.manifest.env
    .filter((e) => (e.kind === "user-secret" || e.kind === "generated-secret") && e.name in opts.env)
    .map((e) => e.name);
  await deps.store.secrets.recordRead(opts.projectId, keys, `deploy ${opts.runId}`);
}
