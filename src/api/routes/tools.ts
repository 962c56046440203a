import { z } from "zod";
import { externalToolName, inputJsonSchema } from "../../tools/index.js";
import { type Api, type ApiDeps, principalOf } from "../context.js";

const ToolDescriptor = z.object({
  name: z.string(),
  externalName: z.string(),
  group: z.string(),
  summary: z.string(),
  inputSchema: z.record(z.string(), z.unknown()),
});

/**
 * The tool registry over HTTP: the CLI, the MCP server and remote agents call tools here, with
 * the caller's token deciding which tools and which project it may touch.
 */
export function registerToolRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    "/api/tools",
    {
      config: { access: "token" },
      schema: { tags: ["tools"], response: { 200: z.object({ items: z.array(ToolDescriptor) }) } },
    },
    async (req) => ({
      items: deps.tools.listFor(principalOf(req)).map((tool) => ({
        name: tool.name,
        externalName: externalToolName(tool.name),
        group: tool.group,
        summary: tool.summary,
        inputSchema: inputJsonSchema(tool),
      })),
    }),
  );
  app.post(
    "/api/tools/:name",
    {
      config: { access: "token" },
      schema: {
        tags: ["tools"],
        params: z.object({ name: z.string().min(1).max(100) }),
        body: z.unknown().optional(),
      },
    },
    async (req) => {
      const principal = principalOf(req);
      const data = await deps.tools.invoke(req.params.name, req.body ?? {}, {
        principal,
        store: deps.store,
        bus: deps.bus,
        logger: deps.logger.child({ component: "tools", tool: req.params.name }),
        ...(deps.secrets ? { secrets: deps.secrets } : {}),
        ...(deps.servers ? { servers: deps.servers } : {}),
      });
      return { data };
    },
  );
}
