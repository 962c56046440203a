import { useCallback, useState } from "react";
import { Link } from "wouter";
import type { AdminApi } from "./admin-api";
import { ConfirmAction } from "./confirm-action";
import { useLiveUpdates } from "./live";
import { AdminPage } from "./page";
import {
  getProject,
  listRuns,
  projectDeployments,
  projectSecrets,
  redeploy,
  rollback,
  startEngineering,
  teardown,
} from "./projects-api";
import type { AdminDeployment, AdminProject, AdminRunEvent, ProjectSecrets } from "./projects-contract";
import { DateTime, OutputText, RunHeading, RunTimeline, StatusBadge } from "./run-timeline";
import { useResource } from "./use-resource";

/** How often the project's runs and deployments are read again while the page is open. */
const REFRESH_MS = 5_000;
/** Runs whose stages and events are shown (newest first); older ones are listed by heading. */
const RUNS_WITH_TIMELINE = 5;
const RUNS_LISTED = 20;

/**
 * One project: its facts, its runs as a timeline (newest first, each stage with its events and
 * agents' turns, live while under way), its deployments, its secrets by name (filled or not, never
 * values), and the actions an admin takes on it, each confirmed first.
 */
export function ProjectPage({
  api,
  id,
  onUnauthorized,
}: {
  api: AdminApi;
  id: string;
  onUnauthorized(): void;
}) {
  const project = useResource((signal) => getProject(api, id, signal), {
    refreshMs: REFRESH_MS,
    onUnauthorized,
  });
  const runs = useResource((signal) => listRuns(api, { projectId: id }, RUNS_LISTED, signal), {
    refreshMs: REFRESH_MS,
    onUnauthorized,
  });
  const deployments = useResource((signal) => projectDeployments(api, id, signal), {
    refreshMs: REFRESH_MS,
    onUnauthorized,
  });
  const secrets = useResource((signal) => projectSecrets(api, id, signal), { onUnauthorized });
  const reloadAll = useCallback(() => {
    project.reload();
    runs.reload();
    deployments.reload();
  }, [project.reload, runs.reload, deployments.reload]);
  useLiveUpdates(["projects", "runs", "deployments"], reloadAll);
  // A run that changes status changes the project and perhaps its deployments too.
  const onEvent = useCallback(
    (event: AdminRunEvent) => {
      if (event.type === "run.status_changed" || event.type.startsWith("deploy.")) reloadAll();
      else if (event.type === "run.stage_changed") runs.reload();
    },
    [reloadAll, runs.reload],
  );
  const p = project.data;
  return (
    <AdminPage
      title={p ? `Project ${p.name}` : "Project"}
      isLoading={project.isLoading && !p}
      error={project.error}
      onRetry={reloadAll}
    >
      <p>
        <Link href="/admin/projects">All projects</Link>
      </p>
      {p && (
        <>
          <ProjectFacts project={p} />
          <ProjectActions api={api} project={p} onDone={reloadAll} />
          <section aria-labelledby="runs-title" data-testid="project-runs">
            <h3 id="runs-title">Runs</h3>
            {runs.error && (
              <p className="alert" role="alert">
                Could not read the runs: {runs.error.message}
              </p>
            )}
            {runs.data && runs.data.items.length === 0 && <p>No runs yet.</p>}
            <ol className="project-runs">
              {runs.data?.items.map((run, index) => (
                <li key={run.id} className="project-runs__run" data-testid="project-run">
                  <h4>
                    <RunHeading run={run} />
                  </h4>
                  {index < RUNS_WITH_TIMELINE && <RunTimeline api={api} run={run} onEvent={onEvent} />}
                </li>
              ))}
            </ol>
          </section>
          <Deployments
            deployments={deployments.data?.items ?? null}
            error={deployments.error?.message ?? null}
          />
          <Secrets secrets={secrets.data} error={secrets.error?.message ?? null} />
        </>
      )}
    </AdminPage>
  );
}

function ProjectFacts({ project }: { project: AdminProject }) {
  return (
    <dl className="facts" data-testid="project-facts">
      <dt>Status</dt>
      <dd>
        <StatusBadge status={project.status} />
      </dd>
      <dt>Slug</dt>
      <dd>
        <code>{project.slug}</code>
      </dd>
      <dt>Template</dt>
      <dd>{project.template ? `${project.template} ${project.templateVersion ?? ""}` : "not chosen yet"}</dd>
      <dt>Repository</dt>
      <dd>{project.repositoryUrl ? <code>{project.repositoryUrl}</code> : "none yet"}</dd>
      <dt>Owner</dt>
      <dd>{project.ownerId ? <code>{project.ownerId}</code> : "none"}</dd>
      <dt>Run budget</dt>
      <dd>
        {project.runBudgetUsd !== null ? `$${project.runBudgetUsd.toFixed(2)}` : "from the agent configs"}
      </dd>
      <dt>Created</dt>
      <dd>
        <DateTime at={project.createdAt} />
      </dd>
      <dt>Updated</dt>
      <dd>
        <DateTime at={project.updatedAt} />
      </dd>
      {project.description && (
        <>
          <dt>Description</dt>
          <dd>{project.description}</dd>
        </>
      )}
    </dl>
  );
}

function ProjectActions({ api, project, onDone }: { api: AdminApi; project: AdminProject; onDone(): void }) {
  const [data, setData] = useState<"keep" | "delete" | "">("");
  const [brief, setBrief] = useState("");
  // A project with a repository is changed; one never built gets its first brief.
  const mode = project.repositoryUrl ? "changeRequest" : "brief";
  const started = (what: string) => (run: { id: string }) => `${what}: run ${run.id.slice(-8)} queued.`;
  return (
    <section aria-labelledby="actions-title" className="project-actions">
      <h3 id="actions-title">Actions</h3>
      <div className="project-actions__row">
        <ConfirmAction
          label="Redeploy"
          question={`Deploy ${project.slug} again from its latest green commit?`}
          confirmLabel="Redeploy now"
          onConfirm={() => redeploy(api, project.id).then(started("Redeploy"))}
          onDone={onDone}
        />
        <ConfirmAction
          label="Roll back"
          question={`Return ${project.slug} to the release that served before the current one?`}
          confirmLabel="Roll back now"
          onConfirm={() => rollback(api, project.id).then(started("Rollback"))}
          onDone={onDone}
        />
        <ConfirmAction
          label="Tear down"
          question={`Stop ${project.slug}'s running release and free its ports? Its repository and releases are kept.`}
          confirmLabel="Tear down now"
          canConfirm={data !== ""}
          onConfirm={() =>
            teardown(api, project.id, data === "delete" ? "delete" : "keep").then(started("Teardown"))
          }
          onDone={() => {
            setData("");
            onDone();
          }}
        >
          <fieldset>
            <legend>What the project stored (its data folder)</legend>
            <label>
              <input
                type="radio"
                name="teardown-data"
                checked={data === "keep"}
                onChange={() => setData("keep")}
              />
              Keep it for a later deploy
            </label>
            <label>
              <input
                type="radio"
                name="teardown-data"
                checked={data === "delete"}
                onChange={() => setData("delete")}
              />
              Delete it for good
            </label>
          </fieldset>
        </ConfirmAction>
        <ConfirmAction
          label={mode === "brief" ? "Start building" : "Start a change"}
          question={
            mode === "brief"
              ? `What should ${project.slug} be? The engineering run starts from this brief.`
              : `What should change in ${project.slug}? It is built on a branch and merged when its tests pass.`
          }
          confirmLabel="Start the run"
          canConfirm={brief.trim() !== ""}
          onConfirm={() => startEngineering(api, project.id, brief.trim(), mode).then(started("Engineering"))}
          onDone={() => {
            setBrief("");
            onDone();
          }}
        >
          <label className="stacked">
            {mode === "brief" ? "Brief" : "Change request"}
            <textarea rows={4} value={brief} onChange={(event) => setBrief(event.target.value)} />
          </label>
        </ConfirmAction>
      </div>
    </section>
  );
}

/** Milliseconds as a person reads them. */
function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function gateOf(deployment: AdminDeployment): string {
  const gate = deployment.healthCheck;
  if (!gate) return "—";
  const parts = [gate.ok === true ? "passed" : gate.ok === false ? "failed" : "recorded"];
  if (typeof gate.attempts === "number")
    parts.push(`${gate.attempts} probe${gate.attempts === 1 ? "" : "s"}`);
  if (typeof gate.elapsedMs === "number") parts.push(`in ${duration(gate.elapsedMs)}`);
  if (typeof gate.reason === "string" && gate.reason) parts.push(`(${gate.reason})`);
  return parts.join(" ");
}

function Deployments({
  deployments,
  error,
}: {
  deployments: AdminDeployment[] | null;
  error: string | null;
}) {
  return (
    <section aria-labelledby="deployments-title" data-testid="deployments">
      <h3 id="deployments-title">Deployments</h3>
      {error && (
        <p className="alert" role="alert">
          Could not read the deployments: {error}
        </p>
      )}
      {deployments?.length === 0 && <p>No deployment yet.</p>}
      {deployments && deployments.length > 0 && (
        <table className="list-table">
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Commit</th>
              <th scope="col">Result</th>
              <th scope="col">URL</th>
              <th scope="col">Health gate</th>
              <th scope="col">Took</th>
              <th scope="col">Log excerpt</th>
            </tr>
          </thead>
          <tbody>
            {deployments.map((d) => (
              <tr key={d.id}>
                <td>
                  <DateTime at={d.createdAt} />
                </td>
                <td>
                  <code>{d.commitSha.slice(0, 12)}</code> <span className="muted">{d.release}</span>
                </td>
                <td>
                  <StatusBadge status={d.status} />
                </td>
                <td>{d.url ? <a href={d.url}>{d.url}</a> : "—"}</td>
                <td>{gateOf(d)}</td>
                <td>{d.finishedAt ? duration(Date.parse(d.finishedAt) - Date.parse(d.createdAt)) : "—"}</td>
                <td>
                  <OutputText text={d.logsExcerpt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Secrets({ secrets, error }: { secrets: ProjectSecrets | null; error: string | null }) {
  return (
    <section aria-labelledby="secrets-title" data-testid="secrets">
      <h3 id="secrets-title">Secrets</h3>
      {error && (
        <p className="alert" role="alert">
          Could not read the secrets: {error}
        </p>
      )}
      {secrets?.secrets.length === 0 && <p>No secret stored.</p>}
      {secrets && secrets.secrets.length > 0 && (
        <table className="list-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Filled</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {secrets.secrets.map((s) => (
              <tr key={s.key}>
                <th scope="row">
                  <code>{s.key}</code>
                </th>
                <td>{s.kind}</td>
                <td>{s.isFilled ? "yes" : "no"}</td>
                <td>
                  <DateTime at={s.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {secrets && secrets.missing.length > 0 && (
        <p className="alert">The latest deploy waits for: {secrets.missing.join(", ")}</p>
      )}
    </section>
  );
}
