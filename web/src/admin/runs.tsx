import { type FormEvent, useEffect, useState } from "react";
import { Link, useSearchParams } from "wouter";
import type { AdminApi } from "./admin-api";
import { useLiveUpdates } from "./live";
import { AdminPage } from "./page";
import { listRuns } from "./projects-api";
import { type AdminRun, RUN_KINDS, RUN_STATUSES } from "./projects-contract";
import { useReloadOn } from "./reload-on";
import { DateTime, StatusBadge } from "./run-timeline";
import { useResource } from "./use-resource";

const REFRESH_MS = 5_000;
const RUNS_LISTED = 100;

/** Runs of every project, newest first, filtered by kind, status and project in the address. */
export function Runs({ api, onUnauthorized }: { api: AdminApi; onUnauthorized(): void }) {
  const [params, setParams] = useSearchParams();
  const filters = {
    kind: params.get("kind") ?? "",
    status: params.get("status") ?? "",
    projectId: params.get("projectId") ?? "",
  };
  const [projectDraft, setProjectDraft] = useState(filters.projectId);
  useEffect(() => setProjectDraft(filters.projectId), [filters.projectId]);
  const runs = useResource((signal) => listRuns(api, filters, RUNS_LISTED, signal), {
    refreshMs: REFRESH_MS,
    onUnauthorized,
  });
  useLiveUpdates(["runs"], runs.reload);
  useReloadOn(`${filters.kind}\n${filters.status}\n${filters.projectId}`, runs.reload);
  const apply = (next: Partial<typeof filters>) => {
    const merged = { ...filters, ...next };
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(merged)) if (value) search.set(key, value);
    setParams(search);
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    apply({ projectId: projectDraft.trim() });
  };
  const page = runs.data;
  return (
    <AdminPage title="Runs" isLoading={runs.isLoading && !page} error={runs.error} onRetry={runs.reload}>
      <form className="search-filters" aria-label="Run filters" onSubmit={onSubmit}>
        <label>
          Kind
          <select value={filters.kind} onChange={(event) => apply({ kind: event.target.value })}>
            <option value="">any</option>
            {RUN_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={filters.status} onChange={(event) => apply({ status: event.target.value })}>
            <option value="">any</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Project id
          <input
            value={projectDraft}
            placeholder="any project"
            onChange={(event) => setProjectDraft(event.target.value)}
          />
        </label>
        <button type="submit">Filter</button>
      </form>
      {page && <RunTable runs={page.items} total={page.total} />}
    </AdminPage>
  );
}

function RunTable({ runs, total }: { runs: AdminRun[]; total: number }) {
  if (runs.length === 0) return <p data-testid="no-runs">No run matches.</p>;
  return (
    <table className="list-table" data-testid="run-list">
      <caption>
        {total} run{total === 1 ? "" : "s"}
        {total > runs.length ? ` (the newest ${runs.length} shown)` : ""}
      </caption>
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Kind</th>
          <th scope="col">Status</th>
          <th scope="col">Stage</th>
          <th scope="col">Project</th>
          <th scope="col">Created</th>
          <th scope="col">Cost</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr key={run.id}>
            <th scope="row">
              <Link href={`/admin/runs/${run.id}`}>{run.id.slice(-8)}</Link>
            </th>
            <td>{run.kind}</td>
            <td>
              <StatusBadge status={run.status} />
            </td>
            <td>{run.stage ?? "—"}</td>
            <td>
              <Link href={`/admin/projects/${run.projectId}`}>{run.projectId.slice(-8)}</Link>
            </td>
            <td>
              <DateTime at={run.createdAt} />
            </td>
            <td>${run.costUsd.toFixed(4)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
