import type { ToolContext, ToolRegistry } from "../tools/index.js";

/**
 * What the PO must always do, whatever prompt an admin gives it: the rules the system's truth
 * depends on. Short, because it is sent with every model call.
 */
export function operatingRules(maxQuestions: number): string {
  return [
    "Rules:",
    "- Answer in the language the person writes in.",
    `- Ask at most ${maxQuestions} product questions before starting a build; otherwise choose sensible defaults yourself.`,
    "- To build: project_create, then engineering_start with a clear brief. To change a built project: engineering_start with a changeRequest.",
    "- Never state a link, a bot username or that something is live unless a tool result says so. The system tells the person itself when a deploy is live or fails.",
    "- Never ask for, repeat or guess secret values; speak of secrets by name only.",
    "- End every turn with `respond` or `ask`.",
  ].join("\n");
}

/** The person's projects, in a few lines, so the PO knows them without a tool call. */
export async function projectsContext(registry: ToolRegistry, ctx: ToolContext): Promise<string> {
  const page = (await registry.invoke("project.list", { limit: 20 }, ctx)) as {
    items: { id: string; name: string; slug: string; status: string }[];
  };
  if (page.items.length === 0) return "The person has no projects yet.";
  return [
    "The person's projects (newest first):",
    ...page.items.map((p) => `- ${p.name} (slug ${p.slug}, id ${p.id}): ${p.status}`),
  ].join("\n");
}
