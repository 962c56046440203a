import { type FormEvent, useEffect, useRef, useState } from "react";
import { Link, useLocation, useSearch } from "wouter";
import { type ApiError, asApiError } from "../api";
import type { AdminApi } from "./admin-api";
import { type DiffLine, lineDiff } from "./line-diff";
import { useLiveUpdates } from "./live";
import { AdminPage } from "./page";
import { when } from "./settings";
import { fieldErrors, getConfig, getVersion, listVersions, restoreVersion, saveConfig } from "./settings-api";
import {
  AGENT_BACKENDS,
  AGENT_NODES,
  type AgentConfig,
  type AgentConfigFields,
  type AgentConfigVersion,
  type AgentConfigVersionSummary,
  type AgentNode,
} from "./settings-contract";
import { useResource } from "./use-resource";

/** The form's fields, in order, with their labels; numbers are edited as text. */
const FIELDS: { key: keyof AgentConfigFields; label: string }[] = [
  { key: "backend", label: "Backend" },
  { key: "model", label: "Model" },
  { key: "prompt", label: "Prompt" },
  { key: "maxTurns", label: "Max turns" },
  { key: "budgetUsd", label: "Budget (USD)" },
  { key: "timeoutMs", label: "Timeout (ms)" },
];
const NUMERIC = new Set<keyof AgentConfigFields>(["maxTurns", "budgetUsd", "timeoutMs"]);

type Draft = Record<keyof AgentConfigFields, string>;
const draftOf = (c: AgentConfigFields): Draft => ({
  backend: c.backend,
  model: c.model,
  prompt: c.prompt,
  maxTurns: String(c.maxTurns),
  budgetUsd: String(c.budgetUsd),
  timeoutMs: String(c.timeoutMs),
});

/** The two versions a diff compares, from the address (`?from=1&to=2`), else the last two. */
function comparedVersions(search: string, current: number): { from: number; to: number } | null {
  const params = new URLSearchParams(search);
  const from = Number(params.get("from"));
  const to = Number(params.get("to"));
  if (from >= 1 && to >= 1) return { from, to };
  return current > 1 ? { from: current - 1, to: current } : null;
}

/**
 * One node's settings: the form (saved as the node's next version), its versions with who saved
 * each and when, a diff between any two (shareable: `?from=&to=`), and restoring an old one.
 */
export function NodeSettings({
  api,
  node,
  onUnauthorized,
}: {
  api: AdminApi;
  node: string;
  onUnauthorized(): void;
}) {
  const known = (AGENT_NODES as readonly string[]).includes(node);
  const agent = node as AgentNode;
  const config = useResource((signal) => getConfig(api, agent, signal), { onUnauthorized });
  const versions = useResource((signal) => listVersions(api, agent, signal), { onUnauthorized });
  useLiveUpdates(["settings"], () => {
    config.reload();
    versions.reload();
  });
  const search = useSearch();
  const [, navigate] = useLocation();
  const compare = (from: number, to: number) => navigate(`/admin/settings/${node}?from=${from}&to=${to}`);
  const afterSave = (before: number, saved: AgentConfig) => {
    config.reload();
    versions.reload();
    compare(before, saved.version);
  };

  if (!known) {
    return (
      <AdminPage title="Settings: no such node" isLoading={false} error={null} onRetry={() => undefined}>
        <p>
          There is no agent node “{node}”. <Link href="/admin/settings">Back to the settings</Link>
        </p>
      </AdminPage>
    );
  }
  const current = config.data;
  const compared = current ? comparedVersions(search, current.version) : null;
  return (
    <AdminPage
      title={`Settings: ${node}`}
      isLoading={(config.isLoading && !current) || (versions.isLoading && !versions.data)}
      error={config.error ?? versions.error}
      onRetry={() => {
        config.reload();
        versions.reload();
      }}
    >
      <p>
        <Link href="/admin/settings">All nodes</Link>
      </p>
      {current && (
        <ConfigForm
          key={`${current.version}`}
          api={api}
          config={current}
          onSaved={(saved) => afterSave(current.version, saved)}
        />
      )}
      {current && versions.data && (
        <VersionList
          api={api}
          node={agent}
          current={current.version}
          versions={versions.data}
          compared={compared}
          onCompare={compare}
          onRestored={(saved) => afterSave(current.version, saved)}
        />
      )}
      {compared && versions.data && (
        <VersionDiff
          api={api}
          node={agent}
          versions={versions.data}
          compared={compared}
          onCompare={compare}
        />
      )}
    </AdminPage>
  );
}

function ConfigForm({
  api,
  config,
  onSaved,
}: {
  api: AdminApi;
  config: AgentConfig;
  onSaved(saved: AgentConfig): void;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(config));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [isSaving, setSaving] = useState(false);
  const backends = config.node === "po" ? ["api", "scripted", "claude-code"] : AGENT_BACKENDS;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const original = draftOf(config);
    const patch: Record<string, string | number> = {};
    for (const { key } of FIELDS) {
      if (draft[key] === original[key]) continue;
      patch[key] = NUMERIC.has(key) && draft[key].trim() !== "" ? Number(draft[key]) : draft[key];
    }
    if (Object.keys(patch).length === 0) {
      setMessage("Nothing changed.");
      return;
    }
    setSaving(true);
    setMessage(null);
    try {
      const saved = await saveConfig(api, config.node, patch as Partial<AgentConfigFields>);
      setErrors({});
      onSaved(saved);
    } catch (failure) {
      const error = asApiError(failure);
      setErrors(fieldErrors(error.details));
      setMessage(`Not saved: ${error.message}`);
      setSaving(false);
    }
  };

  return (
    <form className="settings-form" onSubmit={submit} aria-labelledby="config-form-title" noValidate>
      <h3 id="config-form-title">
        Configuration (v{config.version}, saved {when(config.updatedAt)})
      </h3>
      {FIELDS.map(({ key, label }) => {
        const id = `config-${key}`;
        const error = errors[key];
        const common = {
          id,
          value: draft[key],
          "aria-invalid": error ? true : undefined,
          "aria-describedby": error ? `${id}-error` : undefined,
        };
        const set = (value: string) => setDraft({ ...draft, [key]: value });
        return (
          <div className={`field field--${key}`} key={key}>
            <label htmlFor={id}>{label}</label>
            {key === "backend" ? (
              <select {...common} onChange={(e) => set(e.target.value)}>
                {backends.map((b) => (
                  <option key={b} value={b}>
                    {b}
                  </option>
                ))}
              </select>
            ) : key === "prompt" ? (
              <textarea {...common} rows={10} onChange={(e) => set(e.target.value)} />
            ) : (
              <input
                {...common}
                type={NUMERIC.has(key) ? "number" : "text"}
                step={key === "budgetUsd" ? "0.01" : "1"}
                onChange={(e) => set(e.target.value)}
              />
            )}
            {error && (
              <p className="field__error" id={`${id}-error`} role="alert">
                {error}
              </p>
            )}
          </div>
        );
      })}
      <button type="submit" disabled={isSaving}>
        Save as a new version
      </button>
      {message && <p role="status">{message}</p>}
    </form>
  );
}

function VersionList({
  api,
  node,
  current,
  versions,
  compared,
  onCompare,
  onRestored,
}: {
  api: AdminApi;
  node: AgentNode;
  current: number;
  versions: AgentConfigVersionSummary[];
  compared: { from: number; to: number } | null;
  onCompare(from: number, to: number): void;
  onRestored(saved: AgentConfig): void;
}) {
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const restore = async (version: number) => {
    setBusy(version);
    setFailure(null);
    try {
      onRestored(await restoreVersion(api, node, version));
    } catch (error) {
      setFailure(asApiError(error));
    } finally {
      setBusy(null);
    }
  };
  return (
    <table className="settings-versions" data-testid="versions">
      <caption>Versions</caption>
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Saved by</th>
          <th scope="col">Saved at</th>
          <th scope="col">Backend · model</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {versions.map((v) => (
          <tr key={v.version} aria-current={v.version === current ? "true" : undefined}>
            <th scope="row">v{v.version}</th>
            <td>{v.createdBy}</td>
            <td>{when(v.createdAt)}</td>
            <td>
              {v.backend} · {v.model}
            </td>
            <td className="settings-versions__actions">
              {v.version === current ? (
                <span>current</span>
              ) : (
                <>
                  <button type="button" disabled={busy !== null} onClick={() => void restore(v.version)}>
                    Restore v{v.version}
                  </button>
                  <button
                    type="button"
                    aria-pressed={compared?.from === v.version && compared.to === current}
                    onClick={() => onCompare(v.version, current)}
                  >
                    Compare v{v.version} with current
                  </button>
                </>
              )}
            </td>
          </tr>
        ))}
      </tbody>
      {failure && (
        <tfoot>
          <tr>
            <td colSpan={5} role="alert">
              Not restored: {failure.message}
            </td>
          </tr>
        </tfoot>
      )}
    </table>
  );
}

/** Two versions side by side: a table of the fields (changed ones marked) and a line diff of the prompt. */
function VersionDiff({
  api,
  node,
  versions,
  compared,
  onCompare,
}: {
  api: AdminApi;
  node: AgentNode;
  versions: AgentConfigVersionSummary[];
  compared: { from: number; to: number };
  onCompare(from: number, to: number): void;
}) {
  const [pair, setPair] = useState<[AgentConfigVersion, AgentConfigVersion] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const { from, to } = compared;
  // The page builds a new `AdminApi` on each render of the app; the diff reloads only on a new pair.
  const apiRef = useRef(api);
  apiRef.current = api;
  useEffect(() => {
    const aborted = new AbortController();
    setError(null);
    Promise.all([
      getVersion(apiRef.current, node, from, aborted.signal),
      getVersion(apiRef.current, node, to, aborted.signal),
    ]).then(
      (got) => !aborted.signal.aborted && setPair(got),
      (failure) => !aborted.signal.aborted && setError(asApiError(failure)),
    );
    return () => aborted.abort();
  }, [node, from, to]);

  const numbers = versions.map((v) => v.version);
  const picker = (label: string, value: number, set: (n: number) => void) => (
    <label>
      {label}{" "}
      <select value={value} onChange={(e) => set(Number(e.target.value))}>
        {numbers.map((n) => (
          <option key={n} value={n}>
            v{n}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <section className="settings-diff" aria-labelledby="diff-title" data-testid="diff">
      <h3 id="diff-title">
        Changes from v{from} to v{to}
      </h3>
      <div className="settings-diff__pickers">
        {picker("From version", from, (n) => onCompare(n, to))}
        {picker("To version", to, (n) => onCompare(from, n))}
      </div>
      {error && <p role="alert">Could not load the versions: {error.message}</p>}
      {pair && <DiffBody before={pair[0]} after={pair[1]} />}
    </section>
  );
}

function DiffBody({ before, after }: { before: AgentConfigVersion; after: AgentConfigVersion }) {
  const rows: { label: string; a: string; b: string }[] = [
    { label: "Saved by", a: before.createdBy, b: after.createdBy },
    ...FIELDS.filter((f) => f.key !== "prompt").map(({ key, label }) => ({
      label,
      a: String(before[key]),
      b: String(after[key]),
    })),
  ];
  const lines: DiffLine[] = lineDiff(before.prompt, after.prompt);
  const mark = { same: " ", removed: "-", added: "+" } as const;
  return (
    <>
      <table className="settings-diff__fields" data-testid="diff-fields">
        <caption>Fields</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">v{before.version}</th>
            <th scope="col">v{after.version}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} className={r.a !== r.b ? "changed" : undefined}>
              <th scope="row">{r.label}</th>
              <td>{r.a}</td>
              <td>{r.b}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Prompt</h4>
      {lines.every((l) => l.kind === "same") ? (
        <p>The prompt is the same.</p>
      ) : (
        <pre className="settings-diff__prompt" data-testid="prompt-diff">
          {lines.map((l, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: lines of a diff have no identity but their place.
            <span key={i} className={`diff-line diff-line--${l.kind}`}>
              {`${mark[l.kind]} ${l.text}\n`}
            </span>
          ))}
        </pre>
      )}
    </>
  );
}
