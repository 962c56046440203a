import { type FormEvent, useEffect, useState } from "react";
import { Link, useSearchParams } from "wouter";
import type { AdminApi } from "./admin-api";
import { useLiveUpdates } from "./live";
import { AdminPage } from "./page";
import { listProjects } from "./projects-api";
import { type AdminProject, PROJECT_STATUSES } from "./projects-contract";
import { useReloadOn } from "./reload-on";
import { DateTime, StatusBadge } from "./run-timeline";
import { useResource } from "./use-resource";

/** How often the list is read again while it is open, besides the change stream. */
const REFRESH_MS = 30_000;

/**
 * Projects: a search by name or slug and a status filter, both in the address
 * (`/admin/projects?q=…&status=…`), and every match linking to its page.
 */
export function Projects({ api, onUnauthorized }: { api: AdminApi; onUnauthorized(): void }) {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const status = params.get("status") ?? "";
  const [draft, setDraft] = useState(q);
  // An address changed by the history (back, forward) shows its own search text.
  useEffect(() => setDraft(q), [q]);
  const projects = useResource((signal) => listProjects(api, { q, status }, signal), {
    refreshMs: REFRESH_MS,
    onUnauthorized,
  });
  useReloadOn(`${q}\n${status}`, projects.reload);
  useLiveUpdates(["projects"], projects.reload);
  const apply = (next: { q?: string; status?: string }) => {
    const merged = { q, status, ...next };
    const search = new URLSearchParams();
    if (merged.q) search.set("q", merged.q);
    if (merged.status) search.set("status", merged.status);
    setParams(search);
  };
  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    apply({ q: draft.trim() });
  };
  const page = projects.data;
  return (
    <AdminPage
      title="Projects"
      isLoading={projects.isLoading && !page}
      error={projects.error}
      onRetry={projects.reload}
    >
      <form className="search-filters" aria-label="Project filters" onSubmit={onSearch}>
        <label>
          Search projects
          <input
            type="search"
            value={draft}
            placeholder="name or slug"
            onChange={(event) => setDraft(event.target.value)}
          />
        </label>
        <label>
          Status
          <select value={status} onChange={(event) => apply({ q: draft.trim(), status: event.target.value })}>
            <option value="">any</option>
            {PROJECT_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      {page && <ProjectTable projects={page.items} total={page.total} />}
    </AdminPage>
  );
}

function ProjectTable({ projects, total }: { projects: AdminProject[]; total: number }) {
  if (projects.length === 0) return <p data-testid="no-projects">No project matches.</p>;
  return (
    <table className="list-table" data-testid="project-list">
      <caption>
        {total} project{total === 1 ? "" : "s"}
        {total > projects.length ? ` (the newest ${projects.length} shown)` : ""}
      </caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Slug</th>
          <th scope="col">Status</th>
          <th scope="col">Template</th>
          <th scope="col">Updated</th>
        </tr>
      </thead>
      <tbody>
        {projects.map((p) => (
          <tr key={p.id}>
            <th scope="row">
              <Link href={`/admin/projects/${p.id}`}>{p.name}</Link>
            </th>
            <td>
              <code>{p.slug}</code>
            </td>
            <td>
              <StatusBadge status={p.status} />
            </td>
            <td>{p.template ? `${p.template} ${p.templateVersion ?? ""}` : "—"}</td>
            <td>
              <DateTime at={p.updatedAt} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
