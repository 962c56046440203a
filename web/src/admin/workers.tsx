import { useId } from "react";
import { Link, useLocation, useSearch } from "wouter";
import type { AdminApi } from "./admin-api";
import { useLiveUpdates } from "./live";
import { opsApi } from "./ops-api";
import { numberParam, Pager, ProjectLink, shortId, useProjectSlugs, When } from "./ops-common";
import { AGENT_ROLES, WORKER_STATES } from "./ops-contract";
import { AdminPage } from "./page";
import { useResource } from "./use-resource";

const PAGE_SIZE = 50;

/** The address of the workers list with these filters (empty ones left out). */
export function workersHref(filter: { state?: string; role?: string; offset?: number }): string {
  const params = new URLSearchParams();
  if (filter.state) params.set("state", filter.state);
  if (filter.role) params.set("role", filter.role);
  if (filter.offset) params.set("offset", String(filter.offset));
  const text = params.toString();
  return `/admin/workers${text ? `?${text}` : ""}`;
}

/**
 * `/admin/workers?state=&role=`: every worker with its state, role, backend, project, session and
 * context size, newest first, read again when workers change (the admin change stream); the
 * filters live in the address so a view can be shared.
 */
export function Workers({ api, onUnauthorized }: { api: AdminApi; onUnauthorized(): void }) {
  const search = useSearch();
  const params = new URLSearchParams(search);
  const filter = {
    state: params.get("state") ?? "",
    role: params.get("role") ?? "",
    offset: numberParam(params, "offset", 0),
  };
  // A new address is a new list: the table reads it afresh.
  return <WorkersList key={search} api={api} onUnauthorized={onUnauthorized} filter={filter} />;
}

function WorkersList({
  api,
  onUnauthorized,
  filter,
}: {
  api: AdminApi;
  onUnauthorized(): void;
  filter: { state: string; role: string; offset: number };
}) {
  const [, navigate] = useLocation();
  const stateId = useId();
  const roleId = useId();
  const list = useResource(
    (signal) =>
      opsApi.workers(
        api,
        {
          ...(filter.state ? { state: filter.state } : {}),
          ...(filter.role ? { role: filter.role } : {}),
          offset: filter.offset,
          limit: PAGE_SIZE,
        },
        signal,
      ),
    { onUnauthorized },
  );
  useLiveUpdates(["workers"], list.reload);
  const workers = list.data?.items ?? [];
  const slugs = useProjectSlugs(
    api,
    workers.map((w) => w.projectId),
  );
  const change = (next: Partial<typeof filter>) => navigate(workersHref({ ...filter, ...next, offset: 0 }));

  return (
    <AdminPage
      title="Workers"
      isLoading={list.isLoading && !list.data}
      error={list.error}
      onRetry={list.reload}
    >
      <form className="filters" aria-label="Filter workers" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor={stateId}>State</label>
        <select id={stateId} value={filter.state} onChange={(e) => change({ state: e.target.value })}>
          <option value="">Any</option>
          {WORKER_STATES.map((state) => (
            <option key={state} value={state}>
              {state}
            </option>
          ))}
        </select>
        <label htmlFor={roleId}>Role</label>
        <select id={roleId} value={filter.role} onChange={(e) => change({ role: e.target.value })}>
          <option value="">Any</option>
          {AGENT_ROLES.map((role) => (
            <option key={role} value={role}>
              {role}
            </option>
          ))}
        </select>
      </form>
      {list.data && (
        <>
          <table className="records" data-testid="workers">
            <caption>
              {list.data.total} worker{list.data.total === 1 ? "" : "s"}
            </caption>
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">State</th>
                <th scope="col">Role</th>
                <th scope="col">Backend</th>
                <th scope="col">Project</th>
                <th scope="col">Session</th>
                <th scope="col">Context</th>
                <th scope="col">Last activity</th>
              </tr>
            </thead>
            <tbody>
              {workers.length === 0 ? (
                <tr>
                  <td colSpan={8}>No workers{filter.state || filter.role ? " match these filters" : ""}.</td>
                </tr>
              ) : (
                workers.map((worker) => (
                  <tr key={worker.id}>
                    <th scope="row">
                      <Link href={`/admin/workers/${worker.id}`}>{shortId(worker.id)}</Link>
                    </th>
                    <td>
                      <span className={`state state--${worker.state}`}>{worker.state}</span>
                    </td>
                    <td>{worker.role}</td>
                    <td>
                      {worker.backend} <span className="muted">({worker.runtime})</span>
                    </td>
                    <td>
                      <ProjectLink id={worker.projectId} slugs={slugs} />
                    </td>
                    <td>{worker.sessionId ? <code>{shortId(worker.sessionId)}</code> : "none"}</td>
                    <td className="number">{worker.contextTokens.toLocaleString()}</td>
                    <td>
                      <When at={worker.lastActivityAt} />
                    </td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
          <Pager
            offset={filter.offset}
            limit={PAGE_SIZE}
            total={list.data.total}
            hrefFor={(offset) => workersHref({ ...filter, offset })}
          />
        </>
      )}
    </AdminPage>
  );
}
