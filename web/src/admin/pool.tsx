import { type FormEvent, useId, useState } from "react";
import { asApiError } from "../api";
import type { AdminApi } from "./admin-api";
import { useLiveUpdates } from "./live";
import { opsApi } from "./ops-api";
import { ActionError, ProjectLink, useAction, useProjectSlugs, When } from "./ops-common";
import type { PoolBot } from "./ops-contract";
import { AdminPage } from "./page";
import { useResource } from "./use-resource";

/**
 * `/admin/pool`: the Telegram bots admins keep for people without a bot token of their own. Each
 * bot's token is shown masked, with the project that holds it; Add takes a token in a masked field
 * (checked with Telegram, never shown again), Remove takes a free bot out.
 */
export function Pool({ api, onUnauthorized }: { api: AdminApi; onUnauthorized(): void }) {
  const list = useResource(() => opsApi.pool(api), { onUnauthorized });
  // Projects take bots by themselves: the change stream says when.
  useLiveUpdates(["pool"], list.reload);
  const action = useAction(list.reload, onUnauthorized);
  const bots = list.data ?? [];
  const slugs = useProjectSlugs(
    api,
    bots.map((b) => b.projectId),
  );
  const free = bots.filter((b) => b.projectId === null).length;
  const remove = (bot: PoolBot) => {
    if (window.confirm(`Remove @${bot.botUsername} from the pool?`)) {
      void action.run(`remove:${bot.id}`, () => opsApi.removeFromPool(api, bot.id));
    }
  };

  return (
    <AdminPage
      title="Bot pool"
      isLoading={list.isLoading && !list.data}
      error={list.error}
      onRetry={list.reload}
    >
      <ActionError error={action.error} what="remove the bot" />
      {list.data && (
        <table className="records" data-testid="pool">
          <caption>
            {bots.length} bot{bots.length === 1 ? "" : "s"}, {free} free
          </caption>
          <thead>
            <tr>
              <th scope="col">Bot</th>
              <th scope="col">Token</th>
              <th scope="col">Held by</th>
              <th scope="col">Added</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {bots.length === 0 ? (
              <tr>
                <td colSpan={5}>
                  The pool is empty: a project without its own bot waits for the next one added.
                </td>
              </tr>
            ) : (
              bots.map((bot) => (
                <tr key={bot.id} data-testid={`pool-bot-${bot.botUsername}`}>
                  <th scope="row">@{bot.botUsername}</th>
                  <td>
                    <code>{bot.masked}</code>
                  </td>
                  <td>
                    {bot.projectId ? (
                      <>
                        <ProjectLink id={bot.projectId} slugs={slugs} /> since <When at={bot.takenAt} />
                      </>
                    ) : (
                      "free"
                    )}
                  </td>
                  <td>
                    <When at={bot.createdAt} />
                    {bot.addedBy ? ` by ${bot.addedBy}` : ""}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Remove @${bot.botUsername}`}
                      title={bot.projectId ? "a project holds this bot until its teardown" : undefined}
                      disabled={action.busy !== null || bot.projectId !== null}
                      onClick={() => remove(bot)}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      )}
      <AddBot api={api} onAdded={list.reload} onUnauthorized={onUnauthorized} />
    </AdminPage>
  );
}

function AddBot({
  api,
  onAdded,
  onUnauthorized,
}: {
  api: AdminApi;
  onAdded(): void;
  onUnauthorized(): void;
}) {
  // The token lives only in this field until it is sent: then it is cleared, whatever the answer.
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);
  const inputId = useId();
  const hintId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setNotice(null);
    const value = token.trim();
    if (!value) {
      setError("paste a bot token from @BotFather");
      return;
    }
    setToken("");
    setError(null);
    setBusy(true);
    try {
      const bot = await opsApi.addToPool(api, value);
      setNotice(
        `Added @${bot.botUsername} (${bot.masked})${bot.projectId ? ", taken at once by a waiting project" : ""}.`,
      );
      onAdded();
    } catch (failure) {
      const apiError = asApiError(failure);
      if (apiError.isUnauthorized) onUnauthorized();
      setError(apiError.details.find((d) => d.path?.endsWith("token"))?.message ?? apiError.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="register" aria-labelledby="add-bot-title" onSubmit={submit} noValidate>
      <h3 id="add-bot-title">Add a bot</h3>
      <p className="muted" id={hintId}>
        The token is checked with Telegram, sealed in the vault and never shown again; a project waiting for a
        bot gets it at once.
      </p>
      <div className="field field--wide">
        <label htmlFor={inputId}>Bot token</label>
        <input
          id={inputId}
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${inputId}-error ${hintId}` : hintId}
          onChange={(e) => setToken(e.target.value)}
        />
        {error && (
          <span className="field__error" id={`${inputId}-error`} role="alert">
            {error}
          </span>
        )}
      </div>
      {notice && <output className="notice">{notice}</output>}
      <div>
        <button type="submit" disabled={isBusy}>
          {isBusy ? "Adding…" : "Add"}
        </button>
      </div>
    </form>
  );
}
