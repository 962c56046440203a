/**
 * The MCP endpoint of a CLI Product Owner's turn, through real HTTP with the MCP SDK's client: the
 * turn's tools as its person, the question limit, and a secret that opens nothing once the turn ends.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, startApiHarness } from "../../test/support/api-harness.js";
import type { Principal } from "../contracts/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import { PO_MCP_PATH, PoToolbox, PoTurns } from "../po/index.js";
import { createToolRegistry } from "../tools/index.js";

const turns = new PoTurns();
let h: ApiHarness & { url: string | null };
let person: Principal & { kind: "user" };
let toolbox: PoToolbox;

beforeAll(async () => {
  h = await startApiHarness({ listen: true, poTurns: turns });
  person = {
    kind: "user",
    tokenId: "chat:test",
    userId: (await h.store.users.create({ name: "Pat", webLogin: "pat" })).id,
  };
  toolbox = new PoToolbox(
    {
      registry: createToolRegistry(),
      services: {
        store: h.store,
        bus: h.bus,
        logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
      },
      logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
    },
    { principal: person, questionsAsked: 0, maxQuestions: 2 },
  );
});
afterAll(async () => {
  await h?.close();
});

async function connect(secret: string): Promise<Client> {
  const client = new Client({ name: "po-test", version: "1" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${h.url}${PO_MCP_PATH}`), {
      requestInit: { headers: { authorization: `Bearer ${secret}` } },
    }),
  );
  return client;
}

const textOf = (result: Awaited<ReturnType<Client["callTool"]>>) =>
  (result.content as { type: string; text: string }[]).map((c) => c.text).join("");

describe("the Product Owner's MCP endpoint", () => {
  it("serves one turn's tools as its person while the turn lasts, and nothing after", async () => {
    const access = turns.begin(toolbox);
    const client = await connect(access.secret);
    const tools = (await client.listTools()).tools;
    expect(tools.map((t) => t.name).sort()).toEqual(
      toolbox
        .modelTools()
        .map((t) => t.name)
        .sort(),
    );
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["project_create", "ask", "respond"]));
    expect(tools.find((t) => t.name === "project_create")?.inputSchema.properties).toHaveProperty("name");

    const created = await client.callTool({ name: "project_create", arguments: { name: "Via MCP" } });
    expect(created.isError).toBe(false);
    const project = (await h.store.projects.list({ limit: 10, offset: 0 })).items.find(
      (p) => p.name === "Via MCP",
    );
    expect(project?.ownerId).toBe(person.userId);

    // Someone else's project is out of reach, as it is for the person anywhere else.
    const theirs = await h.store.projects.create({ name: "Not yours" });
    const denied = await client.callTool({ name: "project_get", arguments: { id: theirs.id } });
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toMatch(/not_found|forbidden/);

    // A bad input is explained; two product questions, then no more.
    const empty = await client.callTool({ name: "respond", arguments: { text: "" } });
    expect(empty.isError).toBe(true);
    expect(textOf(empty)).toContain("invalid input");
    for (const question of ["Which city?", "Celsius?"]) {
      const asked = await client.callTool({ name: "ask", arguments: { question } });
      expect(asked.isError).toBe(false);
      expect(textOf(asked)).toContain("Your turn is over");
    }
    const third = await client.callTool({ name: "ask", arguments: { question: "Emoji?" } });
    expect(third.isError).toBe(true);
    expect(textOf(third)).toContain("You have asked 2 questions already");
    await client.callTool({ name: "respond", arguments: { text: "Building it with sensible defaults." } });
    expect(toolbox.replies).toEqual([
      { text: "Which city?", asked: true },
      { text: "Celsius?", asked: true },
      { text: "Building it with sensible defaults.", asked: false },
    ]);
    expect(turns.size).toBe(1);

    access.close();
    expect(turns.size).toBe(0);
    await expect(client.listTools()).rejects.toThrow();
    await client.close();
  });

  it("refuses a request without a live turn's secret, and answers only POST", async () => {
    const call = (authorization?: string) =>
      fetch(`${h.url}${PO_MCP_PATH}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
    for (const header of [undefined, "Bearer po_not-a-turn", `Bearer ${h.adminToken}`]) {
      const res = await call(header);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
    const get = await fetch(`${h.url}${PO_MCP_PATH}`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });
});
