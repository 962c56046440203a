import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "wouter";
import { type ApiError, asApiError } from "../api";
import type { AdminApi } from "./admin-api";
import { opsApi } from "./ops-api";

/** The first characters of an id: enough to tell records apart on a page. */
export const shortId = (id: string) => id.slice(0, 8);

/** Dollars with cents, or to a tenth of a cent below one cent. */
export const dollars = (value: number) =>
  `$${value >= 0.01 || value === 0 ? value.toFixed(2) : value.toFixed(4)}`;

/** A time as the browser's locale writes it, in a `<time>` element. */
export function When({ at }: { at: string | null }) {
  if (!at) return <>never</>;
  return <time dateTime={at}>{new Date(at).toLocaleString()}</time>;
}

/**
 * An action a button starts (pause, approve, check…): whether one is under way, the last failure,
 * and `run`, which refuses a second action while one is under way and calls `onDone` after success.
 * A refused session goes to `onUnauthorized`.
 */
export function useAction(onDone: () => void, onUnauthorized?: () => void) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const latest = useRef({ onDone, onUnauthorized });
  latest.current = { onDone, onUnauthorized };
  const run = useCallback(async (name: string, action: () => Promise<unknown>): Promise<boolean> => {
    setBusy(name);
    setError(null);
    try {
      await action();
      latest.current.onDone();
      return true;
    } catch (failure) {
      const apiError = asApiError(failure);
      if (apiError.isUnauthorized) latest.current.onUnauthorized?.();
      setError(apiError);
      return false;
    } finally {
      setBusy(null);
    }
  }, []);
  return { busy, error, run, clearError: () => setError(null) };
}

/** What an action's failure said, for an `alert` under the buttons. */
export function ActionError({ error, what }: { error: ApiError | null; what: string }) {
  if (!error) return null;
  return (
    <p className="alert" role="alert">
      Could not {what}: {error.message}
      {error.status > 0 ? ` (HTTP ${error.status})` : ""}
    </p>
  );
}

/**
 * Projects' slugs by id, read once each from the API as ids appear (a page shows a handful), so
 * tables can name projects rather than show ids. An unreadable project keeps its short id.
 */
export function useProjectSlugs(api: AdminApi, ids: readonly (string | null)[]): Record<string, string> {
  const [slugs, setSlugs] = useState<Record<string, string>>({});
  const asked = useRef(new Set<string>());
  const key = [...new Set(ids.filter((v): v is string => v !== null))].sort().join(",");
  useEffect(() => {
    const missing = key.split(",").filter((v) => v && !asked.current.has(v));
    for (const projectId of missing) {
      asked.current.add(projectId);
      opsApi.project(api, projectId).then(
        (project) => setSlugs((known) => ({ ...known, [projectId]: project.slug })),
        () => undefined,
      );
    }
  }, [api, key]);
  return slugs;
}

/** A link to a project's admin page, named by its slug when known. */
export function ProjectLink({ id, slugs }: { id: string; slugs: Record<string, string> }) {
  return <Link href={`/admin/projects/${id}`}>{slugs[id] ?? shortId(id)}</Link>;
}

/** Previous / next links of a paged list, kept in the address (`offset`). */
export function Pager({
  offset,
  limit,
  total,
  hrefFor,
}: {
  offset: number;
  limit: number;
  total: number;
  hrefFor(offset: number): string;
}) {
  if (total <= limit && offset === 0) return null;
  const last = Math.min(offset + limit, total);
  return (
    <nav className="pager" aria-label="Pages">
      {offset > 0 && <Link href={hrefFor(Math.max(0, offset - limit))}>Previous</Link>}
      <span>
        {total === 0 ? 0 : offset + 1}–{last} of {total}
      </span>
      {last < total && <Link href={hrefFor(offset + limit)}>Next</Link>}
    </nav>
  );
}

/** A whole number from an address parameter, or `fallback`. */
export function numberParam(params: URLSearchParams, name: string, fallback: number): number {
  const value = Number.parseInt(params.get(name) ?? "", 10);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}
