import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError } from "../contracts/index.js";
import {
  cliFlags,
  createToolRegistry,
  defineTool,
  inputFromFlags,
  mayCall,
  ROLE_PROFILES,
  renderToolReference,
  ToolRegistry,
  toLlmToolDefinitions,
} from "./index.js";
import type { ToolContext } from "./tool.js";

const registry = createToolRegistry();
const worker = (
  role: "developer" | "po",
  groups: ("projects" | "runs" | "admin")[] = ["projects", "runs"],
) => ({
  kind: "worker" as const,
  tokenId: "t",
  projectId: "5b0c2d4e-1111-4222-8333-444455556666",
  role,
  workerId: null,
  groups,
});

describe("registry", () => {
  it("holds the built-in tools", () => {
    expect(registry.list().map((t) => t.name)).toEqual([
      "agent_config.restore",
      "agent_config.update",
      "deploy.rollback",
      "deploy.start",
      "deploy.status",
      "engineering.answer",
      "engineering.start",
      "engineering.status",
      "instance.list",
      "pool.add",
      "pool.list",
      "pool.remove",
      "pool.take",
      "port.allocate",
      "port.release",
      "progress",
      "project.create",
      "project.get",
      "project.incidents",
      "project.list",
      "project.secrets",
      "project.status",
      "project.teardown",
      "project.update",
      "report",
      "run.cancel",
      "run.get",
      "run.grant_budget",
      "run.list",
      "run.spend",
      "secret.audit",
      "secret.list",
      "secret.remove",
      "secret.request",
      "secret.set",
      "server.check",
      "server.list",
      "server.register",
      "server.remove",
      "settings.update",
      "token.create",
      "token.revoke",
      "user.create",
      "user.update",
    ]);
  });

  it("applies role profiles and token groups", () => {
    const get = registry.get("project.get");
    const create = registry.get("project.create");
    expect(mayCall({ kind: "admin", tokenId: "a" }, create)).toBe(true);
    expect(mayCall(worker("developer"), get)).toBe(true);
    expect(mayCall(worker("developer"), create)).toBe(false);
    // Budgets are an admin's call, whatever agent asks (the PO included).
    for (const name of ["run.grant_budget", "run.cancel"]) {
      expect(mayCall({ kind: "admin", tokenId: "a" }, registry.get(name))).toBe(true);
      expect(mayCall(worker("po"), registry.get(name))).toBe(false);
    }
    // Which processes run where is an operator's business, not an agent's.
    expect(mayCall({ kind: "admin", tokenId: "a" }, registry.get("instance.list"))).toBe(true);
    expect(mayCall(worker("po"), registry.get("instance.list"))).toBe(false);
    expect(mayCall(worker("po"), create)).toBe(true);
    expect(mayCall(worker("po", ["runs"]), create)).toBe(false);
    expect(ROLE_PROFILES.developer).toEqual(["project.get", "run.get", "report", "progress"]);
  });

  it("refuses in invoke, before the handler runs, when the caller may not call the tool", async () => {
    let ran = false;
    const local = new ToolRegistry([
      defineTool({
        name: "project.create",
        group: "projects",
        summary: "x",
        input: z.object({}),
        output: z.object({}),
        async handler() {
          ran = true;
          return {};
        },
      }),
    ]);
    const ctx = { principal: worker("developer") } as unknown as ToolContext;
    await expect(local.invoke("project.create", {}, ctx)).rejects.toMatchObject({ kind: "forbidden" });
    expect(ran).toBe(false);
  });

  it("reports invalid input with field paths", async () => {
    const ctx = { principal: { kind: "admin", tokenId: "a" } } as unknown as ToolContext;
    const error = await registry.invoke("project.create", { name: 5 }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).details[0]?.path).toBe("name");
  });

  it("finds a tool by its external name", () => {
    expect(registry.get("run_list").name).toBe("run.list");
    expect(() => registry.get("nope")).toThrow(/no tool named nope/);
  });
});

describe("generated forms", () => {
  it("LLM definitions carry JSON schemas with model-safe names", () => {
    const defs = toLlmToolDefinitions(registry.list());
    const create = defs.find((d) => d.name === "project_create");
    expect(create?.input_schema).toMatchObject({ type: "object", required: ["name"] });
    for (const def of defs) expect(def.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
  });

  it("CLI flags come from the input schema", () => {
    const flags = cliFlags(registry.get("project.create"));
    expect(flags.map((f) => f.flag)).toEqual([
      "--name",
      "--slug",
      "--description",
      "--owner-id",
      "--template",
      "--template-version",
    ]);
    expect(flags.find((f) => f.field === "name")?.required).toBe(true);
    const list = registry.get("run.list");
    expect(inputFromFlags(list, { limit: "5", status: "running" })).toEqual({ limit: 5, status: "running" });
    expect(inputFromFlags(registry.get("project.create"), { ownerId: "null" })).toEqual({ ownerId: null });
  });

  it("the markdown reference shows the real CLI syntax of each allowed tool", () => {
    const md = renderToolReference(registry.list());
    expect(md).toContain("orchestrator project create --name <string> [--slug <string>]");
    expect(md).toContain("orchestrator run get --id <string>");
    const devOnly = renderToolReference(registry.listFor(worker("developer")));
    expect(devOnly).not.toContain("project create");
  });
});
