import { z } from "zod";
import { AppError, Deployment, Id, Run, TeardownData } from "../../contracts/index.js";
import { engine } from "../engine.js";
import { journaled } from "../journal.js";
import { assertProject } from "../permissions.js";
import { defineTool } from "../tool.js";

const ProjectInput = z.object({ projectId: Id.describe("project UUID") });

export const deployStart = defineTool({
  name: "deploy.start",
  group: "deploy",
  summary:
    "Deploy a project: the given commit, or by default the commit of its latest green engineering run. Ends live (health gate passed), failed, or blocked on missing secrets.",
  input: ProjectInput.extend({
    commit: z
      .string()
      .regex(/^[0-9a-f]{40}$/, "a full commit SHA")
      .optional()
      .describe("full commit SHA (default: the latest green engineering commit)"),
  }),
  output: Run,
  async handler(input, ctx) {
    await assertProject(ctx, input.projectId);
    const commit = input.commit ?? (await (await engine()).latestGreenCommit(ctx.store, input.projectId));
    if (!commit) {
      throw new AppError("conflict", "nothing_to_deploy", "the project has no green engineering run yet", {
        details: [{ path: "commit", message: "give a commit or run engineering first" }],
      });
    }
    return (await engine()).requestDeploy(journaled(ctx), {
      projectId: input.projectId,
      action: "deploy",
      commit,
    });
  },
});

export const deployRollback = defineTool({
  name: "deploy.rollback",
  group: "deploy",
  summary:
    "Return the project to the release that served before the current one (health-gated like a deploy).",
  input: ProjectInput,
  output: Run,
  async handler(input, ctx) {
    await assertProject(ctx, input.projectId);
    return (await engine()).requestDeploy(journaled(ctx), { projectId: input.projectId, action: "rollback" });
  },
});

export const projectTeardown = defineTool({
  name: "project.teardown",
  group: "deploy",
  summary:
    "Stop a project's running release and free its ports; the repository and releases are kept. `data` is the person's answer to 'keep or delete what the project stored (DATA_DIR)?': ask before calling.",
  input: ProjectInput.extend({
    data: TeardownData.describe(
      "keep: the project's stored data stays for a later deploy; delete: it is removed for good",
    ),
  }),
  output: Run,
  async handler(input, ctx) {
    await assertProject(ctx, input.projectId);
    return (await engine()).requestDeploy(journaled(ctx), {
      projectId: input.projectId,
      action: "teardown",
      data: input.data,
    });
  },
});

/** What serves a project now: its `healthy` deployment. None after a teardown or before a deploy. */
const Live = z
  .object({
    deploymentId: Id,
    commit: z.string(),
    release: z.string(),
    url: z.string().nullable().describe("null for a bot (no URL)"),
  })
  .nullable()
  .describe("what serves now (the healthy deployment), or null: nothing is live");

export const deployStatus = defineTool({
  name: "deploy.status",
  group: "deploy",
  summary:
    "A project's latest deploy run, what is live now (null when nothing serves, e.g. after a teardown) and its deployments (newest first): commit, release, URL, result.",
  input: ProjectInput,
  output: z.object({ run: Run.nullable(), live: Live, deployments: z.array(Deployment) }),
  async handler(input, ctx) {
    await assertProject(ctx, input.projectId);
    await ctx.store.projects.get(input.projectId);
    const runs = await ctx.store.runs.list({
      projectId: input.projectId,
      kind: "deploy",
      limit: 1,
      offset: 0,
    });
    const deployments = await ctx.store.deployments.list({
      projectId: input.projectId,
      limit: 20,
      offset: 0,
    });
    const [serving] = (
      await ctx.store.deployments.list({ projectId: input.projectId, status: "healthy", limit: 1, offset: 0 })
    ).items;
    const live = serving
      ? { deploymentId: serving.id, commit: serving.commitSha, release: serving.release, url: serving.url }
      : null;
    return { run: runs.items[0] ?? null, live, deployments: deployments.items };
  },
});
