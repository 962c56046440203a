import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import { ApiTokenCreate, AppError, Principal } from "../contracts/index.js";
import type { Store } from "../store/index.js";
import { createToken, issueToken, principalForToken, revokeToken } from "./index.js";

let store: Store;

beforeAll(async () => {
  store = await openTestStore();
});
afterAll(async () => {
  await store?.close();
});

async function failure(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("principals", () => {
  it("parse each kind and refuse a user without its user id", () => {
    const userId = "5b0c2d4e-1111-4222-8333-444455556666";
    expect(Principal.parse({ kind: "admin", tokenId: "t" })).toEqual({ kind: "admin", tokenId: "t" });
    expect(Principal.parse({ kind: "user", tokenId: "t", userId })).toEqual({
      kind: "user",
      tokenId: "t",
      userId,
    });
    expect(Principal.safeParse({ kind: "user", tokenId: "t" }).success).toBe(false);
    expect(Principal.safeParse({ kind: "user", tokenId: "t", userId: "alice" }).success).toBe(false);
    expect(Principal.safeParse({ kind: "worker", tokenId: "t", userId }).success).toBe(false);
  });

  it("stand behind each kind of token", async () => {
    const user = await store.users.create({ name: "Alice", webLogin: "alice" });
    const project = await store.projects.create({ name: "Token kinds" });
    const admin = await createToken(store, { name: "a", kind: "admin" });
    const worker = await createToken(store, {
      name: "w",
      kind: "worker",
      projectId: project.id,
      role: "developer",
      groups: ["projects"],
    });
    const person = await createToken(store, { name: "u", kind: "user", userId: user.id });
    expect(person.record).toMatchObject({ kind: "user", userId: user.id, role: null, projectId: null });
    expect(worker.record).toMatchObject({ kind: "worker", userId: null, role: "developer" });
    expect(await principalForToken(store, admin.token)).toEqual({ kind: "admin", tokenId: admin.record.id });
    expect(await principalForToken(store, worker.token)).toMatchObject({
      kind: "worker",
      projectId: project.id,
      role: "developer",
      groups: ["projects"],
    });
    expect(await principalForToken(store, person.token)).toEqual({
      kind: "user",
      tokenId: person.record.id,
      userId: user.id,
    });
    // The listing shows who a user token acts for, and never a role for it.
    const listed = (await store.apiTokens.list()).find((t) => t.id === person.record.id);
    expect(listed).toMatchObject({ userId: user.id, role: null });
  });

  it("drop a user token's access once its user is barred", async () => {
    const user = await store.users.create({ name: "Bob", telegramId: "2002" });
    const { token } = await createToken(store, { name: "bob", kind: "user", userId: user.id });
    expect(await principalForToken(store, token)).toMatchObject({ kind: "user", userId: user.id });
    await store.users.update(user.id, { isAllowed: false });
    expect(await principalForToken(store, token)).toBeNull();
  });
});

describe("createToken", () => {
  it("checks the same contract at every door: a user token names a user and nothing else", async () => {
    const project = await store.projects.create({ name: "Contract" });
    const noUser = await failure(createToken(store, { name: "u", kind: "user" }));
    expect(noUser.details.map((d) => d.path)).toEqual(["userId"]);
    const withProject = await failure(
      createToken(store, {
        name: "u",
        kind: "user",
        userId: "5b0c2d4e-1111-4222-8333-444455556666",
        projectId: project.id,
      }),
    );
    expect(withProject.details.map((d) => d.path)).toEqual(["projectId"]);
    const workerWithUser = ApiTokenCreate.safeParse({
      name: "w",
      kind: "worker",
      projectId: project.id,
      role: "developer",
      userId: "5b0c2d4e-1111-4222-8333-444455556666",
    });
    expect(workerWithUser.error?.issues.map((i) => i.path.join("."))).toEqual(["userId"]);
    const noProject = await failure(createToken(store, { name: "w", kind: "worker" }));
    expect(noProject.details.map((d) => d.path)).toEqual(["projectId", "role"]);
  });

  it("refuses an unknown user or project with not_found", async () => {
    const missing = "5b0c2d4e-1111-4222-8333-444455556666";
    expect((await failure(createToken(store, { name: "u", kind: "user", userId: missing }))).kind).toBe(
      "not_found",
    );
    expect(
      (await failure(createToken(store, { name: "w", kind: "worker", projectId: missing, role: "po" }))).kind,
    ).toBe("not_found");
  });
});

describe("revokeToken", () => {
  it("never revokes the last live admin token, and revokes any other", async () => {
    const fresh = await openTestStore();
    try {
      const first = await issueToken(fresh, { name: "first", kind: "admin" });
      const second = await issueToken(fresh, { name: "second", kind: "admin" });
      expect((await revokeToken(fresh, second.record.id)).revokedAt).not.toBeNull();
      const last = await failure(revokeToken(fresh, first.record.id));
      expect(last.code).toBe("last_admin_token");
      expect(await principalForToken(fresh, first.token)).toMatchObject({ kind: "admin" });
      // Revoking an already revoked admin token is not the last one's revocation.
      expect((await revokeToken(fresh, second.record.id)).revokedAt).not.toBeNull();
      expect((await failure(revokeToken(fresh, "5b0c2d4e-1111-4222-8333-444455556666"))).kind).toBe(
        "not_found",
      );
    } finally {
      await fresh.close();
    }
  });
});
