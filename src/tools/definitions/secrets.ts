import { z } from "zod";
import {
  AppError,
  Id,
  PageQuery,
  type Principal,
  pageOf,
  SecretAuditEntry,
  SecretKind,
  SecretMeta,
} from "../../contracts/index.js";
import {
  botTokenRefusal,
  SecretKey,
  type SecretsService,
  SecretValue,
  TELEGRAM_BOT_TOKEN_KEY,
} from "../../secrets/index.js";
import { engine } from "../engine.js";
import { journaled } from "../journal.js";
import { assertProject, listScope } from "../permissions.js";
import { defineTool, type ToolContext } from "../tool.js";

/** The secrets service of this call, or `unavailable` when the caller runs without the vault. */
function secretsOf(ctx: ToolContext): SecretsService {
  if (!ctx.secrets) {
    throw new AppError("unavailable", "secrets_unavailable", "the secrets vault is not available here");
  }
  return ctx.secrets;
}

/** The audit name of a caller: its kind, role and token id, never the token. */
export function actorOf(principal: Principal): string {
  if (principal.kind === "admin") return `admin:${principal.tokenId}`;
  if (principal.kind === "user") return `user:${principal.userId}:${principal.tokenId}`;
  return `worker:${principal.role}:${principal.tokenId}`;
}

/** What storing a secret answers: its metadata, a webhook found on a bot, the deploy it let go on. */
const SecretStored = SecretMeta.extend({
  webhook: z
    .string()
    .nullable()
    .describe("a webhook another service set on the bot: polling gets no updates until it is removed"),
  resumedRunId: Id.nullable().describe("the deploy that was blocked on this secret and now goes on"),
});

export const secretSet = defineTool({
  name: "secret.set",
  group: "secrets",
  secretField: "value",
  summary:
    "Store a project secret, encrypted. TELEGRAM_BOT_TOKEN is checked with Telegram first (getMe names the bot; a webhook set elsewhere is reported; a bot another active project runs is refused). A deploy blocked on missing secrets goes on once all are filled. Returns metadata, never the value.",
  input: z.object({
    projectId: Id.describe("project UUID"),
    key: SecretKey.describe("variable name, upper snake case"),
    value: SecretValue.describe("the secret value (never echoed back)"),
    kind: SecretKind.default("user").describe("user (default), infra or computed"),
  }),
  output: SecretStored,
  async handler(input, ctx) {
    await assertProject(ctx, input.projectId);
    const secrets = secretsOf(ctx);
    await ctx.store.projects.get(input.projectId);
    const actor = actorOf(ctx.principal);
    let stored: { meta: SecretMeta; webhook: string | null };
    if (input.key === TELEGRAM_BOT_TOKEN_KEY && ctx.bots) {
      const checked = await ctx.bots.store(input.projectId, input.value, actor);
      if (!checked.ok) throw botTokenRefusal(checked);
      stored = { meta: checked.meta, webhook: checked.webhook };
    } else {
      stored = { meta: await secrets.set({ ...input, createdBy: actor }), webhook: null };
    }
    const resumed = await (await engine()).resumeBlockedDeploy(journaled(ctx), input.projectId);
    return { ...stored.meta, webhook: stored.webhook, resumedRunId: resumed?.id ?? null };
  },
});

export const secretList = defineTool({
  name: "secret.list",
  group: "secrets",
  summary: "List a project's secrets: names, kinds, filled flags and lengths only, never values.",
  input: z.object({ projectId: Id.describe("project UUID") }),
  output: z.array(SecretMeta),
  async handler(input, ctx) {
    await assertProject(ctx, input.projectId);
    const secrets = secretsOf(ctx);
    await ctx.store.projects.get(input.projectId);
    return secrets.listMeta(input.projectId);
  },
});

export const secretRemove = defineTool({
  name: "secret.remove",
  group: "secrets",
  summary: "Remove a project secret by name; isRemoved says whether one was stored.",
  input: z.object({
    projectId: Id.describe("project UUID"),
    key: SecretKey.describe("variable name"),
  }),
  output: z.object({ projectId: Id, key: z.string(), isRemoved: z.boolean() }),
  async handler(input, ctx) {
    await assertProject(ctx, input.projectId);
    const secrets = secretsOf(ctx);
    await ctx.store.projects.get(input.projectId);
    const isStored = (await secrets.listMeta(input.projectId)).some((m) => m.key === input.key);
    await secrets.remove(input.projectId, input.key);
    return { projectId: input.projectId, key: input.key, isRemoved: isStored };
  },
});

export const secretAudit = defineTool({
  name: "secret.audit",
  // In `projects`, not `secrets`: a person may read their own projects' trail (never a value).
  group: "projects",
  summary:
    "The secrets audit trail, newest first: who stored, replaced, removed, read (deploys), re-sealed (key rotation) or took which secret, and when; never values. Admins see every row; others their projects' rows.",
  input: PageQuery.extend({ projectId: Id.optional().describe("only this project's rows") }),
  output: pageOf(SecretAuditEntry),
  async handler(input, ctx) {
    // No existence check for an admin: the trail of a removed project stays readable.
    if (input.projectId !== undefined) await assertProject(ctx, input.projectId);
    const scope = listScope(ctx.principal);
    const narrowed =
      scope === null || input.projectId !== undefined
        ? input
        : "projectId" in scope
          ? { ...input, projectId: scope.projectId }
          : { ...input, ownerId: scope.ownerId };
    return ctx.store.secrets.listAudit(narrowed);
  },
});
