import { z } from "zod";
import { EnvName, Id, type Project } from "../../contracts/index.js";
import { getTemplate } from "../../templates/index.js";
import { assertProject } from "../permissions.js";
import { defineTool } from "../tool.js";
import { deployBlockedOn } from "./project-status.js";

const RequestedSecret = z.object({
  key: z.string(),
  /** What the template says the value is and where to get it; null for a name it does not declare. */
  description: z.string().nullable(),
  isFilled: z.boolean(),
});

/** What the project's template declares as secrets the person provides, by name. */
async function declaredSecrets(
  project: Project,
): Promise<Map<string, { description: string; required: boolean }>> {
  const declared = new Map<string, { description: string; required: boolean }>();
  if (!project.template) return declared;
  // A template no longer offered (or an external one not fetched here) declares nothing we can read.
  const template = await getTemplate(project.template).catch(() => null);
  for (const entry of template?.manifest.env ?? []) {
    if (entry.kind === "user-secret") declared.set(entry.name, entry);
  }
  return declared;
}

export const secretRequest = defineTool({
  name: "secret.request",
  group: "projects",
  summary:
    "Ask the person for secrets a project needs (default: every secret its template requires and its last deploy missed). Answers each name with what it is and where to get it, and whether it is filled, never values; the person's next message (or the web chat's masked field) fills the first missing one, and a deploy blocked on them goes on once all are filled. Tell the person what to send and where to get it.",
  input: z.object({
    projectId: Id.describe("project UUID"),
    keys: z
      .array(EnvName)
      .min(1)
      .max(20)
      .optional()
      .describe("the names to ask for (default: the required ones the project is missing)"),
  }),
  output: z.object({
    projectId: Id,
    requested: z.array(RequestedSecret),
    /** The names still without a value, in the order the person is asked for them. */
    missing: z.array(z.string()),
  }),
  async handler(input, ctx) {
    await assertProject(ctx, input.projectId);
    const project = await ctx.store.projects.get(input.projectId);
    const declared = await declaredSecrets(project);
    const filled = new Set(
      (await ctx.store.secrets.listMeta(project.id)).filter((m) => m.isFilled).map((m) => m.key),
    );
    const keys = input.keys ?? [
      ...new Set([
        ...[...declared].filter(([, entry]) => entry.required).map(([name]) => name),
        ...(await deployBlockedOn(ctx.store, project.id)),
      ]),
    ];
    const requested = keys.map((key) => ({
      key,
      description: declared.get(key)?.description ?? null,
      isFilled: filled.has(key),
    }));
    return {
      projectId: project.id,
      requested,
      missing: requested.filter((r) => !r.isFilled).map((r) => r.key),
    };
  },
});
