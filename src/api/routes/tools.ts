import { z } from "zod";
import type { Principal } from "../../contracts/index.js";
import { externalToolName, inputJsonSchema, toolContextFor } from "../../tools/index.js";
import { type Api, type ApiDeps, principalOf, showOnce } from "../context.js";

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
      return { data: await invokeFor<unknown>(deps, req, req.params.name, req.body ?? {}) };
    },
  );
}

/** Lets a tool's `shownOnceField` (a new token) through this one answer's masking. */
export function showField(
  request: { shownOnce: Set<string> | null },
  field: string | undefined,
  data: unknown,
): void {
  if (!field || typeof data !== "object" || data === null) return;
  const value = (data as Record<string, unknown>)[field];
  if (typeof value === "string") showOnce(request, value);
}

/**
 * Runs a tool for a REST route, as the request's principal with the API's services: REST writes
 * get the same validation, authorization and effects as `POST /api/tools/:name`. `T` is the
 * tool's output type (the registry checks the output against the tool's contract).
 */
export async function invokeFor<T>(
  deps: ApiDeps,
  request: { principal: Principal | null; shownOnce: Set<string> | null },
  name: string,
  input: unknown,
): Promise<T> {
  const data = await deps.tools.invoke(
    name,
    input,
    toolContextFor(principalOf(request), deps, { tool: name }),
  );
  showField(request, deps.tools.get(name).shownOnceField, data);
  return data as T;
}
