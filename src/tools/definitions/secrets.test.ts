import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../../test/support/store.js";
import { InProcessBus } from "../../bus/index.js";
import { AppError, type Principal } from "../../contracts/index.js";
import { createLogger, SecretRedactor } from "../../observability/index.js";
import { SecretsService, Vault } from "../../secrets/index.js";
import type { Store } from "../../store/index.js";
import { type ToolServices, toolContextFor } from "../context.js";
import { ToolRegistry } from "../registry.js";
import type { ToolContext } from "../tool.js";
import { secretList, secretRemove, secretSet } from "./secrets.js";

const TOKEN = `42424242:${"Q".repeat(30)}_-a1b`;
const registry = new ToolRegistry([secretSet, secretList, secretRemove]);
const admin: Principal = { kind: "admin", tokenId: "tok-admin" };

let store: Store;
let services: ToolServices;
let ctx: ToolContext;
let projectId: string;

beforeAll(async () => {
  store = await openTestStore();
  const redactor = new SecretRedactor();
  services = {
    store,
    bus: new InProcessBus(),
    logger: createLogger({ level: "silent", redactor }),
    secrets: new SecretsService({ store, vault: new Vault(Buffer.alloc(32, 9)), redactor }),
  };
  ctx = toolContextFor(admin, services);
  projectId = (await store.projects.create({ name: "Tool secrets" })).id;
});
afterAll(async () => {
  await store?.close();
});

function worker(project: string, groups: ("secrets" | "projects")[] = ["secrets"]): Principal {
  return { kind: "worker", tokenId: "tok-po", projectId: project, role: "po", workerId: null, groups };
}

async function failure(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("secret tools", () => {
  it("set (kind user by default), list and remove, answering with metadata only", async () => {
    const meta = await registry.invoke(
      "secret.set",
      { projectId, key: "TELEGRAM_BOT_TOKEN", value: TOKEN },
      ctx,
    );
    expect(meta).toMatchObject({
      key: "TELEGRAM_BOT_TOKEN",
      kind: "user",
      isFilled: true,
      createdBy: "admin:tok-admin",
    });
    expect(JSON.stringify(meta)).not.toContain(TOKEN);
    await registry.invoke(
      "secret_set",
      { projectId, key: "SIGNING_KEY", value: "k-123456", kind: "infra" },
      ctx,
    );
    const list = await registry.invoke("secret.list", { projectId }, ctx);
    expect((list as { key: string; kind: string }[]).map((m) => [m.key, m.kind])).toEqual([
      ["SIGNING_KEY", "infra"],
      ["TELEGRAM_BOT_TOKEN", "user"],
    ]);
    expect(JSON.stringify(list)).not.toContain(TOKEN);
    expect(await ctx.secrets?.get(projectId, "TELEGRAM_BOT_TOKEN")).toBe(TOKEN);
    expect(await registry.invoke("secret.remove", { projectId, key: "SIGNING_KEY" }, ctx)).toEqual({
      projectId,
      key: "SIGNING_KEY",
      isRemoved: true,
    });
    expect(await registry.invoke("secret.remove", { projectId, key: "SIGNING_KEY" }, ctx)).toMatchObject({
      isRemoved: false,
    });
  });

  it("refuse a malformed bot token naming the field, without the value", async () => {
    const bad = "42424242:short-but-secret";
    const error = await failure(
      registry.invoke("secret.set", { projectId, key: "TELEGRAM_BOT_TOKEN", value: bad }, ctx),
    );
    expect(error).toMatchObject({ kind: "invalid", code: "invalid_bot_token" });
    expect(error.details.map((d) => d.path)).toEqual(["value"]);
    expect(JSON.stringify(error.toBody())).not.toContain(bad);
    const empty = await failure(registry.invoke("secret.set", { projectId, key: "X_KEY", value: "" }, ctx));
    expect(empty.details.map((d) => d.path)).toEqual(["value"]);
  });

  it("keep a project-scoped token to its project and its groups, and unknown projects are not_found", async () => {
    const other = (await store.projects.create({ name: "Other secrets" })).id;
    const scoped = toolContextFor(worker(projectId), services);
    expect(await registry.invoke("secret.list", { projectId }, scoped)).toBeInstanceOf(Array);
    expect(await failure(registry.invoke("secret.list", { projectId: other }, scoped))).toMatchObject({
      kind: "not_found",
    });
    const noGroup = toolContextFor(worker(projectId, ["projects"]), services);
    expect(await failure(registry.invoke("secret.list", { projectId }, noGroup))).toMatchObject({
      kind: "forbidden",
    });
    const missing = "00000000-0000-4000-8000-000000000000";
    expect(
      await failure(registry.invoke("secret.set", { projectId: missing, key: "K", value: "v" }, ctx)),
    ).toMatchObject({ kind: "not_found" });
  });

  it("answer unavailable where the caller runs without the vault", async () => {
    const withoutVault = toolContextFor(admin, { ...services, secrets: undefined });
    const error = await failure(registry.invoke("secret.list", { projectId }, withoutVault));
    expect(error).toMatchObject({ kind: "unavailable", code: "secrets_unavailable" });
  });
});
