import { type FormEvent, useId, useState } from "react";
import { type ApiError, asApiError } from "../api";
import type { AdminApi } from "./admin-api";
import { useLiveUpdates } from "./live";
import { opsApi } from "./ops-api";
import { ActionError, ProjectLink, useAction, useProjectSlugs, When } from "./ops-common";
import type { Capacity, Server, ServerRegistration } from "./ops-contract";
import { AdminPage } from "./page";
import { useResource } from "./use-resource";

/**
 * How often ports are read again: allocations have no topic of their own in the change stream
 * (deploys, which make most of them, are followed through `deployments`).
 */
const PORTS_REFRESH_MS = 30_000;

const megabytes = (mb: number) =>
  mb >= 10_240 ? `${Math.round(mb / 1024)} GB` : `${mb.toLocaleString()} MB`;
const capacityText = (c: Capacity) =>
  `${c.cpuCores} CPU core${c.cpuCores === 1 ? "" : "s"}, ${megabytes(c.memoryMb)} memory, ${megabytes(c.diskMb)} disk`;

/**
 * `/admin/servers`: the deploy servers with their status, measured capacity, last check and ports
 * in use, "Check now" on each, and a form that registers a new one (its SSH key typed into a
 * masked field, sent once and never shown again).
 */
export function Servers({ api, onUnauthorized }: { api: AdminApi; onUnauthorized(): void }) {
  const list = useResource((signal) => opsApi.servers(api, signal), { onUnauthorized });
  useLiveUpdates(["servers"], list.reload);
  const servers = (list.data?.items ?? []).filter((s) => s.status !== "removed");
  return (
    <AdminPage
      title="Servers"
      isLoading={list.isLoading && !list.data}
      error={list.error}
      onRetry={list.reload}
    >
      {list.data && (
        <div className="cards" data-testid="servers">
          {servers.length === 0 && (
            <p>No servers registered: deploys go to this machine (the local driver).</p>
          )}
          {servers.map((server) => (
            <ServerCard
              key={server.id}
              api={api}
              server={server}
              onChanged={list.reload}
              onUnauthorized={onUnauthorized}
            />
          ))}
        </div>
      )}
      <RegisterServer api={api} onRegistered={list.reload} onUnauthorized={onUnauthorized} />
    </AdminPage>
  );
}

function ServerCard({
  api,
  server,
  onChanged,
  onUnauthorized,
}: {
  api: AdminApi;
  server: Server;
  onChanged(): void;
  onUnauthorized(): void;
}) {
  const ports = useResource((signal) => opsApi.ports(api, server.id, signal), {
    refreshMs: PORTS_REFRESH_MS,
    onUnauthorized,
  });
  useLiveUpdates(["deployments"], ports.reload);
  const [facts, setFacts] = useState<Record<string, unknown> | null>(null);
  const action = useAction(onChanged, onUnauthorized);
  const slugs = useProjectSlugs(
    api,
    (ports.data?.items ?? []).map((p) => p.projectId),
  );
  const titleId = useId();
  const check = () =>
    void action.run("check", async () => {
      const result = await opsApi.checkServer(api, server.id);
      setFacts(result.facts);
    });
  return (
    <section className="card" aria-labelledby={titleId} data-testid={`server-${server.handle}`}>
      <h3 id={titleId}>
        {server.handle} <span className={`state state--${server.status}`}>{server.status}</span>
      </h3>
      <dl className="facts">
        <dt>Address</dt>
        <dd>
          {server.sshUser}@{server.host}:{server.sshPort}
        </dd>
        <dt>Measured capacity</dt>
        <dd>{server.capacity ? capacityText(server.capacity) : "not measured yet"}</dd>
        <dt>Last check</dt>
        <dd>
          <When at={server.lastHealthCheckAt} />
        </dd>
        {server.lastError && (
          <>
            <dt>Last error</dt>
            <dd className="error-text">{server.lastError}</dd>
          </>
        )}
        {facts && (
          <>
            <dt>This check found</dt>
            <dd data-testid="check-facts">
              {[
                facts.os ? String(facts.os) : null,
                typeof facts.memoryAvailableMb === "number"
                  ? `${megabytes(facts.memoryAvailableMb)} memory free`
                  : null,
                typeof facts.diskFreeMb === "number" ? `${megabytes(facts.diskFreeMb)} disk free` : null,
                facts.dockerVersion ? `Docker ${String(facts.dockerVersion)}` : null,
              ]
                .filter(Boolean)
                .join(", ") || "nothing (unreachable)"}
            </dd>
          </>
        )}
      </dl>
      <button
        type="button"
        disabled={action.busy !== null}
        onClick={check}
        aria-label={`Check ${server.handle} now`}
      >
        {action.busy === "check" ? "Checking…" : "Check now"}
      </button>
      <ActionError error={action.error} what="check the server" />
      <table className="records">
        <caption>Ports in use</caption>
        <thead>
          <tr>
            <th scope="col">Port</th>
            <th scope="col">Project</th>
            <th scope="col">Service</th>
          </tr>
        </thead>
        <tbody>
          {(ports.data?.items ?? []).length === 0 ? (
            <tr>
              <td colSpan={3}>
                {ports.error ? `Could not read the ports: ${ports.error.message}` : "None."}
              </td>
            </tr>
          ) : (
            (ports.data?.items ?? []).map((port) => (
              <tr key={port.id}>
                <th scope="row" className="number">
                  {port.port}
                </th>
                <td>
                  <ProjectLink id={port.projectId} slugs={slugs} />
                </td>
                <td>{port.service}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </section>
  );
}

type Field = "handle" | "host" | "sshPort" | "sshUser" | "privateKey";
const FIELDS: readonly Field[] = ["handle", "host", "sshPort", "sshUser", "privateKey"];

/** The API's validation details by form field (`body.handle`, `privateKey`, …); the rest apart. */
function fieldErrors(error: ApiError): { byField: Partial<Record<Field, string>>; other: string | null } {
  const byField: Partial<Record<Field, string>> = {};
  for (const detail of error.details) {
    const field = FIELDS.find((f) => (detail.path ?? "").split(".").includes(f));
    if (field && !byField[field]) byField[field] = detail.message ?? "invalid";
  }
  return { byField, other: Object.keys(byField).length === 0 ? error.message : null };
}

function RegisterServer({
  api,
  onRegistered,
  onUnauthorized,
}: {
  api: AdminApi;
  onRegistered(): void;
  onUnauthorized(): void;
}) {
  const [form, setForm] = useState({ handle: "", host: "", sshPort: "22", sshUser: "root" });
  // The key lives only in this field until it is sent: then it is cleared, whatever the answer.
  const [privateKey, setPrivateKey] = useState("");
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);
  const ids = { handle: useId(), host: useId(), sshPort: useId(), sshUser: useId(), privateKey: useId() };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setNotice(null);
    setFailure(null);
    const local: Partial<Record<Field, string>> = {};
    if (!form.handle.trim()) local.handle = "a name is required";
    if (!form.host.trim()) local.host = "a host is required";
    const port = Number(form.sshPort);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) local.sshPort = "a port from 1 to 65535";
    if (!form.sshUser.trim()) local.sshUser = "a user is required";
    if (!privateKey.trim()) local.privateKey = "paste the server's SSH private key";
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    const registration: ServerRegistration = {
      handle: form.handle.trim(),
      host: form.host.trim(),
      sshPort: port,
      sshUser: form.sshUser.trim(),
      privateKey,
    };
    setPrivateKey("");
    setBusy(true);
    try {
      const { server } = await opsApi.registerServer(api, registration);
      setForm({ handle: "", host: "", sshPort: "22", sshUser: "root" });
      setNotice(
        `Registered ${server.handle}: ${server.status}${server.lastError ? ` (${server.lastError})` : ""}.`,
      );
      onRegistered();
    } catch (error) {
      const apiError = asApiError(error);
      if (apiError.isUnauthorized) onUnauthorized();
      const { byField, other } = fieldErrors(apiError);
      setErrors(byField);
      setFailure(other);
    } finally {
      setBusy(false);
    }
  };

  const field = (
    name: Exclude<Field, "privateKey">,
    label: string,
    extra: { inputMode?: "numeric" } = {},
  ) => (
    <div className="field">
      <label htmlFor={ids[name]}>{label}</label>
      <input
        id={ids[name]}
        value={form[name]}
        autoComplete="off"
        spellCheck={false}
        aria-invalid={errors[name] ? true : undefined}
        aria-describedby={errors[name] ? `${ids[name]}-error` : undefined}
        onChange={(e) => setForm((f) => ({ ...f, [name]: e.target.value }))}
        {...extra}
      />
      {errors[name] && (
        <span className="field__error" id={`${ids[name]}-error`}>
          {errors[name]}
        </span>
      )}
    </div>
  );

  return (
    <form className="register" aria-labelledby="register-title" onSubmit={submit} noValidate>
      <h3 id="register-title">Register a server</h3>
      <p className="muted">
        The key is sealed in the vault, used only for SSH, and never shown again. The server is checked at
        once.
      </p>
      {field("handle", "Name")}
      {field("host", "Host")}
      {field("sshPort", "SSH port", { inputMode: "numeric" })}
      {field("sshUser", "SSH user")}
      <div className="field field--wide">
        <label htmlFor={ids.privateKey}>Private key</label>
        <textarea
          id={ids.privateKey}
          className="masked"
          rows={4}
          value={privateKey}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={errors.privateKey ? true : undefined}
          aria-describedby={errors.privateKey ? `${ids.privateKey}-error` : undefined}
          onChange={(e) => setPrivateKey(e.target.value)}
        />
        {errors.privateKey && (
          <span className="field__error" id={`${ids.privateKey}-error`}>
            {errors.privateKey}
          </span>
        )}
      </div>
      {(failure || Object.keys(errors).length > 0) && (
        <p className="alert" role="alert">
          Could not register the server: {failure ?? "see the fields marked above."}
        </p>
      )}
      {notice && <output className="notice">{notice}</output>}
      <div>
        <button type="submit" disabled={isBusy}>
          {isBusy ? "Registering…" : "Register"}
        </button>
      </div>
    </form>
  );
}
