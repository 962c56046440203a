import { useSearch } from "wouter";
import type { AdminApi } from "./admin-api";
import { useLiveUpdates } from "./live";
import { opsApi } from "./ops-api";
import { ActionError, numberParam, Pager, useAction, When } from "./ops-common";
import type { User } from "./ops-contract";
import { AdminPage } from "./page";
import { useResource } from "./use-resource";

const PAGE_SIZE = 100;

/**
 * `/admin/users`: everyone who may talk to the system, with their role and whether they are
 * allowed; Approve, Block (confirmed), Make admin and Remove admin, each a `PATCH /api/users/:id`.
 */
export function Users({ api, onUnauthorized }: { api: AdminApi; onUnauthorized(): void }) {
  const search = useSearch();
  const offset = numberParam(new URLSearchParams(search), "offset", 0);
  return <UsersList key={search} api={api} onUnauthorized={onUnauthorized} offset={offset} />;
}

function UsersList({
  api,
  onUnauthorized,
  offset,
}: {
  api: AdminApi;
  onUnauthorized(): void;
  offset: number;
}) {
  const list = useResource((signal) => opsApi.users(api, { offset, limit: PAGE_SIZE }, signal), {
    onUnauthorized,
  });
  useLiveUpdates(["users"], list.reload);
  const action = useAction(list.reload, onUnauthorized);
  const update = (user: User, name: string, change: Parameters<typeof opsApi.updateUser>[2]) =>
    void action.run(`${name}:${user.id}`, () => opsApi.updateUser(api, user.id, change));
  const block = (user: User) => {
    if (window.confirm(`Block ${user.name}? They can no longer talk to the system until approved again.`)) {
      update(user, "block", { isAllowed: false });
    }
  };

  return (
    <AdminPage
      title="Users"
      isLoading={list.isLoading && !list.data}
      error={list.error}
      onRetry={list.reload}
    >
      <ActionError error={action.error} what="change the user" />
      {list.data && (
        <>
          <table className="records" data-testid="users">
            <caption>
              {list.data.total} user{list.data.total === 1 ? "" : "s"}
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Signs in as</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Added</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.length === 0 ? (
                <tr>
                  <td colSpan={6}>No users yet.</td>
                </tr>
              ) : (
                list.data.items.map((user) => (
                  <tr key={user.id} data-testid={`user-${user.id}`}>
                    <th scope="row">{user.name}</th>
                    <td>
                      {[
                        user.webLogin ? `web: ${user.webLogin}` : null,
                        user.telegramId ? `Telegram: ${user.telegramId}` : null,
                      ]
                        .filter(Boolean)
                        .join(", ")}
                    </td>
                    <td data-testid="user-role">{user.role}</td>
                    <td data-testid="user-status">
                      <span className={user.isAllowed ? "state state--running" : "state state--failed"}>
                        {user.isAllowed ? "allowed" : "not allowed"}
                      </span>
                    </td>
                    <td>
                      <When at={user.createdAt} />
                    </td>
                    <td className="actions">
                      {user.isAllowed ? (
                        <button
                          type="button"
                          className="danger"
                          aria-label={`Block ${user.name}`}
                          disabled={action.busy !== null}
                          onClick={() => block(user)}
                        >
                          Block
                        </button>
                      ) : (
                        <button
                          type="button"
                          aria-label={`Approve ${user.name}`}
                          disabled={action.busy !== null}
                          onClick={() => update(user, "approve", { isAllowed: true })}
                        >
                          Approve
                        </button>
                      )}
                      {user.role === "admin" ? (
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`Remove admin from ${user.name}`}
                          disabled={action.busy !== null}
                          onClick={() => update(user, "demote", { role: "user" })}
                        >
                          Remove admin
                        </button>
                      ) : (
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`Make ${user.name} an admin`}
                          disabled={action.busy !== null}
                          onClick={() => update(user, "promote", { role: "admin" })}
                        >
                          Make admin
                        </button>
                      )}
                    </td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
          <Pager
            offset={offset}
            limit={PAGE_SIZE}
            total={list.data.total}
            hrefFor={(next) => (next ? `/admin/users?offset=${next}` : "/admin/users")}
          />
        </>
      )}
    </AdminPage>
  );
}
