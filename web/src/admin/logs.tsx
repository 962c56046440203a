import { type FormEvent, useEffect, useRef, useState } from "react";
import { useLocation, useSearch } from "wouter";
import type { AdminApi } from "./admin-api";
import { LOG_LEVELS, type LogEntry, type LogFilters, type LogLevel } from "./logs-contract";
import { AdminPage } from "./page";
import { logStreamUrl, queryOf, recentLogs } from "./spend-logs-api";
import { useResource } from "./use-resource";

/** Lines the page keeps; the oldest go first. */
const MAX_LINES = 1_000;
/** Lines held while the tail is paused; beyond it the oldest of them are dropped. */
const MAX_HELD = 1_000;

function filtersOf(search: string): LogFilters {
  const params = new URLSearchParams(search);
  const level = params.get("level") ?? "";
  return {
    component: params.get("component") ?? "",
    level: (LOG_LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : "",
    projectId: params.get("projectId") ?? "",
    runId: params.get("runId") ?? "",
  };
}

/**
 * The Logs page: the latest log lines of every process (masked as they were logged), filtered by
 * component, minimum level, project and run (in the address), followed live from the API's log
 * stream; the tail can be paused (new lines wait) and resumed.
 */
export function Logs({ api, onUnauthorized }: { api: AdminApi; onUnauthorized(): void }) {
  const search = useSearch();
  const filters = filtersOf(search);
  const [, navigate] = useLocation();
  return (
    <LogsOfFilters
      key={search}
      api={api}
      filters={filters}
      onUnauthorized={onUnauthorized}
      onFilter={(next) => navigate(`/admin/logs${queryOf({ ...next })}`)}
    />
  );
}

type TailState = "connecting" | "live" | "reconnecting";

function LogsOfFilters({
  api,
  filters,
  onUnauthorized,
  onFilter,
}: {
  api: AdminApi;
  filters: LogFilters;
  onUnauthorized(): void;
  onFilter(filters: LogFilters): void;
}) {
  const [lines, setLines] = useState<LogEntry[]>([]);
  const [held, setHeld] = useState<LogEntry[]>([]);
  const [isPaused, setPaused] = useState(false);
  const [tail, setTail] = useState<TailState>("connecting");
  const paused = useRef(false);
  paused.current = isPaused;

  // The stream opens first, so nothing logged between the list and the stream is missed; entries
  // are merged by their number.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the component is keyed by its filters.
  useEffect(() => {
    const source = new EventSource(logStreamUrl(api, filters), { withCredentials: true });
    source.onopen = () => setTail("live");
    source.onerror = () => setTail("reconnecting");
    source.addEventListener("log", (event) => {
      const entry = JSON.parse((event as MessageEvent<string>).data) as LogEntry;
      if (paused.current) setHeld((h) => [...h, entry].slice(-MAX_HELD));
      else setLines((current) => merge(current, [entry]));
    });
    return () => source.close();
  }, []);

  const recent = useResource((signal) => recentLogs(api, filters, signal), { onUnauthorized });
  useEffect(() => {
    if (recent.data) setLines((current) => merge(current, recent.data?.entries ?? []));
  }, [recent.data]);

  const resume = () => {
    setLines((current) => merge(current, held));
    setHeld([]);
    setPaused(false);
  };

  return (
    <AdminPage
      title="Logs"
      isLoading={recent.isLoading && !recent.data}
      error={recent.error}
      onRetry={recent.reload}
    >
      <FilterForm filters={filters} components={recent.data?.components ?? []} onFilter={onFilter} />
      <div className="logs__tail" data-testid="tail">
        <p role="status" className={`logs__state logs__state--${isPaused ? "paused" : tail}`}>
          {isPaused
            ? `Tail paused: ${held.length} new ${held.length === 1 ? "line" : "lines"} waiting`
            : tail === "live"
              ? "Following live"
              : tail === "connecting"
                ? "Connecting…"
                : "Connection lost, reconnecting…"}
        </p>
        <button type="button" aria-pressed={isPaused} onClick={() => (isPaused ? resume() : setPaused(true))}>
          {isPaused ? "Resume tail" : "Pause tail"}
        </button>
      </div>
      <LogLines lines={lines} />
    </AdminPage>
  );
}

/** Lines by their number, each once, oldest first, at most `MAX_LINES`. */
function merge(current: LogEntry[], more: LogEntry[]): LogEntry[] {
  if (more.length === 0) return current;
  const bySeq = new Map(current.map((e) => [e.seq, e]));
  for (const entry of more) bySeq.set(entry.seq, entry);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-MAX_LINES);
}

function FilterForm({
  filters,
  components,
  onFilter,
}: {
  filters: LogFilters;
  components: string[];
  onFilter(filters: LogFilters): void;
}) {
  const [draft, setDraft] = useState(filters);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onFilter({
      ...draft,
      component: draft.component.trim(),
      projectId: draft.projectId.trim(),
      runId: draft.runId.trim(),
    });
  };
  return (
    <form className="logs__filters" onSubmit={submit} aria-label="Log filters">
      <label>
        Component
        <input
          list="log-components"
          value={draft.component}
          placeholder="any"
          onChange={(e) => setDraft({ ...draft, component: e.target.value })}
        />
        <datalist id="log-components">
          {components.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
      </label>
      <label>
        Level at least
        <select
          value={draft.level}
          onChange={(e) => setDraft({ ...draft, level: e.target.value as LogLevel | "" })}
        >
          <option value="">any</option>
          {LOG_LEVELS.map((level) => (
            <option key={level} value={level}>
              {level}
            </option>
          ))}
        </select>
      </label>
      <label>
        Project id
        <input
          value={draft.projectId}
          placeholder="any"
          spellCheck={false}
          onChange={(e) => setDraft({ ...draft, projectId: e.target.value })}
        />
      </label>
      <label>
        Run id
        <input
          value={draft.runId}
          placeholder="any"
          spellCheck={false}
          onChange={(e) => setDraft({ ...draft, runId: e.target.value })}
        />
      </label>
      <button type="submit">Apply filters</button>
    </form>
  );
}

function LogLines({ lines }: { lines: LogEntry[] }) {
  if (lines.length === 0) return <p className="logs__empty">No log lines match yet.</p>;
  return (
    <table className="logs__lines" data-testid="log-lines">
      <caption className="visually-hidden">Log lines, oldest first</caption>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Level</th>
          <th scope="col">Component</th>
          <th scope="col">Message</th>
          <th scope="col">Project · run</th>
        </tr>
      </thead>
      <tbody>
        {lines.map((line) => (
          <tr key={line.seq} className={`logs__line logs__line--${line.level}`}>
            <td>
              <time dateTime={line.time}>{new Date(line.time).toLocaleTimeString()}</time>
            </td>
            <td>
              <span className={`logs__level logs__level--${line.level}`}>{line.level}</span>
            </td>
            <td>{line.component ?? "—"}</td>
            <td>
              {line.msg}
              {line.detail && <code className="logs__detail">{line.detail}</code>}
            </td>
            <td className="logs__ids">
              {line.projectId ? <code title={line.projectId}>{line.projectId.slice(0, 8)}</code> : "—"}
              {line.runId && (
                <>
                  {" · "}
                  <code title={line.runId}>{line.runId.slice(0, 8)}</code>
                </>
              )}
              {line.node && <span className="logs__node"> on {line.node}</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
