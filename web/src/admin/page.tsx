import { type ReactNode, useEffect } from "react";
import type { ApiError } from "../api";

/** The product's name after each page's own, in the tab and the history. */
const TITLE_SUFFIX = "Orchestrator admin";

/**
 * One admin page: its title (in the tab too), what is loading or failed, then its content. A
 * failure keeps the last content shown beneath it, with a way to try again.
 */
export function AdminPage({
  title,
  isLoading,
  error,
  onRetry,
  children,
}: {
  title: string;
  isLoading: boolean;
  error: ApiError | null;
  onRetry(): void;
  children: ReactNode;
}) {
  useEffect(() => {
    document.title = `${title} · ${TITLE_SUFFIX}`;
  }, [title]);
  return (
    <section className="admin-page" aria-labelledby="admin-page-title" aria-busy={isLoading}>
      <h2 id="admin-page-title">{title}</h2>
      {error && (
        <div className="alert" role="alert">
          <p>
            Could not load this page: {error.message}
            {error.status > 0 ? ` (HTTP ${error.status})` : ""}
          </p>
          <button type="button" onClick={onRetry}>
            Try again
          </button>
        </div>
      )}
      {isLoading && (
        <p className="loading" role="status">
          Loading…
        </p>
      )}
      {children}
    </section>
  );
}

/** A count table of one grouping (status, state, …): a caption, a row per value, a total. */
export function CountTable({
  caption,
  label,
  rows,
  testId,
}: {
  caption: string;
  label: string;
  rows: { key: string; count: number }[];
  testId: string;
}) {
  const total = rows.reduce((sum, row) => sum + row.count, 0);
  return (
    <table className="counts" data-testid={testId}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{label}</th>
          <th scope="col">Count</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={2}>None</td>
          </tr>
        ) : (
          rows.map((row) => (
            <tr key={row.key}>
              <th scope="row">{row.key}</th>
              <td>{row.count}</td>
            </tr>
          ))
        )}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">Total</th>
          <td>{total}</td>
        </tr>
      </tfoot>
    </table>
  );
}
