import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openToolBed, type ToolBed } from "../../test/support/tool-bed.js";
import type { Principal } from "../contracts/index.js";
import { type ModelProvider, type ModelScript, ScriptedProvider } from "../llm/index.js";
import type { Store } from "../store/index.js";
import type { ToolServices } from "../tools/index.js";
import { ProductOwner } from "./agent.js";
import { PO_TOOL_NAMES } from "./tools.js";

let bed: ToolBed;
let store: Store;
let services: ToolServices;
let person: Principal;
let registry: ToolBed["registry"];

beforeAll(async () => {
  bed = await openToolBed();
  ({ store, services, registry } = bed);
  person = bed.alice;
});
afterAll(async () => {
  await bed?.close();
});

/** A PO whose model plays `script`, recording every request it was sent. */
function po(script: ModelScript, opts: { maxRounds?: number } = {}) {
  const requests: Parameters<ModelScript>[0][] = [];
  const provider = new ScriptedProvider((request) => {
    requests.push(request);
    return script(request);
  });
  return {
    agent: new ProductOwner({ provider, registry, services, logger: services.logger, ...opts }),
    requests,
  };
}

const turn = (agent: ProductOwner, message: string, questionsAsked = 0) =>
  agent.turn({
    principal: person,
    systemPrompt: "You are the PO.",
    summary: null,
    questionsAsked,
    history: [],
    message,
  });

describe("ProductOwner", () => {
  it("offers the registry's tools by provider-safe names, and only those the person may call", async () => {
    const { agent, requests } = po(() => ({ toolCalls: [{ name: "respond", input: { text: "hi" } }] }));
    const result = await turn(agent, "hello");
    expect(result.replies).toEqual([{ text: "hi", asked: false }]);
    const names = requests[0]?.tools.map((t) => t.name) ?? [];
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(names).toContain("project_create");
    expect(names).toContain("engineering_answer");
    expect(names).toEqual(expect.arrayContaining(["ask", "respond"]));
    expect(names).not.toContain("secret_set");
    expect(names).not.toContain("server_register");
    expect(names.length).toBe(PO_TOOL_NAMES.length + 2);
  });

  it("creates a project and starts its build through the tools, acting as the person", async () => {
    const { agent, requests } = po((request) => {
      const results = request.messages.flatMap((m) => m.content).filter((c) => c.type === "tool_result");
      if (results.length === 0) return { toolCalls: [{ name: "project_create", input: { name: "Clock" } }] };
      if (results.length === 1) {
        const id = JSON.parse(results[0]?.type === "tool_result" ? results[0].content : "{}").id as string;
        return {
          toolCalls: [{ name: "engineering_start", input: { projectId: id, brief: "tell the time" } }],
        };
      }
      return { toolCalls: [{ name: "respond", input: { text: "Started." } }] };
    });
    const result = await turn(agent, "a clock service", 1);
    expect(result.runs).toHaveLength(1);
    expect(result.runs[0]).toMatchObject({ kind: "engineering", status: "queued" });
    const project = await store.projects.get(result.runs[0]?.projectId as string);
    expect(project.ownerId).toBe(person.kind === "user" ? person.userId : null);
    // A build started: the question count starts again.
    expect(result.questionsAsked).toBe(0);
    expect(requests).toHaveLength(3);
    // The project the PO made is in its context next time.
    const next = po(() => ({ text: "ok" }));
    await turn(next.agent, "what do I have?");
    expect(next.requests[0]?.system).toContain("Clock");
  });

  it("refuses a third product question and tells the model to decide instead", async () => {
    const { agent, requests } = po((request) => {
      const last = request.messages.at(-1)?.content.at(-1);
      if (last?.type === "tool_result" && last.isError) return { text: "Fine, building with defaults." };
      return { toolCalls: [{ name: "ask", input: { question: "Which city?" } }] };
    });
    const first = await turn(agent, "a weather bot", 1);
    expect(first.replies).toEqual([{ text: "Which city?", asked: true }]);
    expect(first.questionsAsked).toBe(2);
    const third = await turn(agent, "any", 2);
    expect(third.replies).toEqual([{ text: "Fine, building with defaults.", asked: false }]);
    expect(third.questionsAsked).toBe(2);
    expect(JSON.stringify(requests.at(-1)?.messages)).toContain("asked 2 questions already");
  });

  it("hands a tool's refusal back to the model with the field and the reason", async () => {
    const { agent, requests } = po((request) => {
      const last = request.messages.at(-1)?.content.at(-1);
      if (last?.type === "tool_result") return { toolCalls: [{ name: "respond", input: { text: "sorry" } }] };
      return { toolCalls: [{ name: "engineering_start", input: { projectId: "not-a-uuid" } }] };
    });
    await turn(agent, "build it");
    const result = requests[1]?.messages.at(-1)?.content.at(-1);
    expect(result).toMatchObject({ type: "tool_result", isError: true });
    expect(result?.type === "tool_result" ? result.content : "").toContain("projectId");
  });

  it("stops at its round limit and says the turn is exhausted", async () => {
    const { agent, requests } = po(() => ({ toolCalls: [{ name: "project_list", input: {} }] }), {
      maxRounds: 3,
    });
    const result = await turn(agent, "loop forever");
    expect(requests).toHaveLength(3);
    expect(result).toMatchObject({ exhausted: true, replies: [], rounds: 3 });
  });

  it("reports a failed model call as an error, keeping the runs already started", async () => {
    const provider = new ScriptedProvider(() => {
      throw new Error("boom");
    });
    const agent = new ProductOwner({ provider, registry, services, logger: services.logger });
    const result = await turn(agent, "hello");
    expect(result.error?.code).toBe("internal");
    expect(result.replies).toEqual([]);
  });

  it("stops a message's turn once its model calls cost more than the PO's budget", async () => {
    let calls = 0;
    const provider: ModelProvider = {
      kind: "anthropic",
      defaultModel: "claude-opus-4-1",
      async complete() {
        calls += 1;
        return {
          provider: "anthropic",
          model: "claude-opus-4-1",
          content: [{ type: "tool_call", id: `c${calls}`, name: "project_list", input: {} }],
          stop: "tool_calls",
          usage: { inputTokens: 100_000, outputTokens: 1_000, cacheReadTokens: 0, cacheWriteTokens: 0 },
        };
      },
    };
    const agent = new ProductOwner({ provider, registry, services, logger: services.logger });
    const result = await agent.turn({
      principal: person,
      systemPrompt: "You are the PO.",
      summary: null,
      questionsAsked: 0,
      history: [],
      message: "keep going",
      budgetUsd: 0.5,
    });
    expect(result.error?.code).toBe("po_budget_exhausted");
    expect(calls).toBeLessThan(8);
    expect(result.replies).toEqual([]);
  });
});
