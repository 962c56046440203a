import { type FormEvent, useState } from "react";
import { Link } from "wouter";
import { asApiError } from "../api";
import type { AdminApi } from "./admin-api";
import { useLiveUpdates } from "./live";
import { AdminPage } from "./page";
import { fieldErrors, getRuntimeSettings, listConfigs, saveRuntimeSettings } from "./settings-api";
import type { AgentConfig, RuntimeSettingKey, RuntimeSettingView } from "./settings-contract";
import { useResource } from "./use-resource";

const MINUTE_MS = 60_000;

/** Each run-time setting's label and what it does. */
const SETTING_TEXT: Record<RuntimeSettingKey, { label: string; help: string }> = {
  workerPausedTtlMs: {
    label: "Paused worker lifetime (minutes)",
    help: "A worker paused this long is terminated and its sandbox removed.",
  },
  workerHardTtlMs: {
    label: "Longest worker life (minutes)",
    help: "Fixed when a worker is created: new workers take a change.",
  },
  agentSessionMaxAgeMs: {
    label: "Agent session idle limit (minutes)",
    help: "An agent session idle longer than this starts fresh with the project summary.",
  },
  webSessionTtlMs: {
    label: "Web sign-in length (minutes)",
    help: "How long a sign-in lasts; new sign-ins take a change.",
  },
};

/** A length in milliseconds as minutes, without a trailing `.0`. */
export const minutes = (ms: number) => String(Math.round((ms / MINUTE_MS) * 100) / 100);

/** A date and time in the reader's locale. */
export const when = (iso: string) => new Date(iso).toLocaleString();

/**
 * Settings: every agent node (backend, model, version, last saved) linking to its own page, and
 * the run-time settings (worker and session lifetimes) over the environment's values.
 */
export function SettingsIndex({ api, onUnauthorized }: { api: AdminApi; onUnauthorized(): void }) {
  const configs = useResource((signal) => listConfigs(api, signal), { onUnauthorized });
  const runtime = useResource((signal) => getRuntimeSettings(api, signal), { onUnauthorized });
  // A save by anyone (another tab, the CLI) shows here without a reload.
  useLiveUpdates(["settings"], () => {
    configs.reload();
    runtime.reload();
  });
  return (
    <AdminPage
      title="Settings"
      isLoading={(configs.isLoading && !configs.data) || (runtime.isLoading && !runtime.data)}
      error={configs.error ?? runtime.error}
      onRetry={() => {
        configs.reload();
        runtime.reload();
      }}
    >
      {configs.data && <NodeTable configs={configs.data} />}
      {runtime.data && (
        <RuntimeSettingsForm
          key={runtime.data.map((s) => `${s.key}=${s.value}`).join(",")}
          api={api}
          settings={runtime.data}
          onSaved={runtime.reload}
        />
      )}
    </AdminPage>
  );
}

function NodeTable({ configs }: { configs: AgentConfig[] }) {
  return (
    <table className="settings-nodes" data-testid="agent-nodes">
      <caption>Agent nodes</caption>
      <thead>
        <tr>
          <th scope="col">Node</th>
          <th scope="col">Backend</th>
          <th scope="col">Model</th>
          <th scope="col">Version</th>
          <th scope="col">Saved</th>
        </tr>
      </thead>
      <tbody>
        {configs.map((c) => (
          <tr key={c.node}>
            <th scope="row">
              <Link href={`/admin/settings/${c.node}`}>{c.node}</Link>
            </th>
            <td>{c.backend}</td>
            <td>{c.model}</td>
            <td>v{c.version}</td>
            <td>{when(c.updatedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The worker and session lifetimes: a field each (minutes), saved together; "Use default" clears one. */
function RuntimeSettingsForm({
  api,
  settings,
  onSaved,
}: {
  api: AdminApi;
  settings: RuntimeSettingView[];
  onSaved(): void;
}) {
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(settings.map((s) => [s.key, minutes(s.value)])),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [isSaving, setSaving] = useState(false);

  const send = async (patch: Partial<Record<RuntimeSettingKey, number | null>>) => {
    setSaving(true);
    setMessage(null);
    try {
      const saved = await saveRuntimeSettings(api, patch);
      setValues(Object.fromEntries(saved.map((s) => [s.key, minutes(s.value)])));
      setErrors({});
      setMessage("Saved.");
      onSaved();
    } catch (failure) {
      const error = asApiError(failure);
      setErrors(fieldErrors(error.details));
      setMessage(`Not saved: ${error.message}`);
    } finally {
      setSaving(false);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const patch: Partial<Record<RuntimeSettingKey, number>> = {};
    for (const s of settings) {
      const text = values[s.key] ?? "";
      const ms = Math.round(Number(text) * MINUTE_MS);
      if (text.trim() === "" || Number.isNaN(ms)) {
        setErrors({ [s.key]: "a number of minutes" });
        return;
      }
      if (ms !== s.value) patch[s.key] = ms;
    }
    if (Object.keys(patch).length === 0) {
      setMessage("Nothing changed.");
      return;
    }
    void send(patch);
  };

  return (
    <form className="settings-runtime" onSubmit={submit} aria-labelledby="runtime-settings-title" noValidate>
      <h3 id="runtime-settings-title">Worker and session lifetimes</h3>
      {settings.map((s) => {
        const text = SETTING_TEXT[s.key];
        const id = `setting-${s.key}`;
        return (
          <div className="field" key={s.key}>
            <label htmlFor={id}>{text.label}</label>
            <input
              id={id}
              type="number"
              min={1}
              step="any"
              value={values[s.key] ?? ""}
              aria-invalid={errors[s.key] ? true : undefined}
              aria-describedby={`${id}-help${errors[s.key] ? ` ${id}-error` : ""}`}
              onChange={(e) => setValues({ ...values, [s.key]: e.target.value })}
            />
            <p className="field__help" id={`${id}-help`}>
              {text.help}{" "}
              {s.isDefault
                ? `Environment default (${minutes(s.defaultValue)} min).`
                : `Set by ${s.updatedBy} on ${when(s.updatedAt ?? "")}; default ${minutes(s.defaultValue)} min.`}
            </p>
            {errors[s.key] && (
              <p className="field__error" id={`${id}-error`} role="alert">
                {errors[s.key]}
              </p>
            )}
            {!s.isDefault && (
              <button type="button" disabled={isSaving} onClick={() => void send({ [s.key]: null })}>
                Use the default for {text.label.replace(/ \(minutes\)$/, "").toLowerCase()}
              </button>
            )}
          </div>
        );
      })}
      <button type="submit" disabled={isSaving}>
        Save lifetimes
      </button>
      {message && <p role="status">{message}</p>}
    </form>
  );
}
