import { describe, expect, it } from "vitest";
import type { ModelMessage } from "../contracts/index.js";
import { compactForModel } from "./compact.js";
import { scriptedProductOwner } from "./script.js";

/** What every request carries besides its messages. */
const REQUEST = { system: "You are the Product Owner.", tools: [], maxTokens: 2_048 };

/** The request of the scripted PO's second round: the person asked, `project_status` answered. */
function afterStatus(answer: unknown) {
  const messages: ModelMessage[] = [
    { role: "user", content: [{ type: "text", text: "how are my projects?" }] },
    { role: "assistant", content: [{ type: "tool_call", id: "c1", name: "project_status", input: {} }] },
    {
      role: "user",
      content: [
        { type: "tool_result", callId: "c1", content: compactForModel(answer, 8_000), isError: false },
      ],
    },
  ];
  return scriptedProductOwner({ ...REQUEST, messages });
}

const asOf = "2026-01-01T00:00:00.000Z";

describe("the scripted Product Owner", () => {
  it("asks project_status when asked how the projects are", () => {
    const first = scriptedProductOwner({
      ...REQUEST,
      messages: [{ role: "user", content: [{ type: "text", text: "how are my projects?" }] }],
    });
    expect(first).toEqual({ toolCalls: [{ name: "project_status", input: {} }] });
  });

  it("says there are no projects when the status has none (the model's copy leaves the empty list out)", () => {
    expect(afterStatus({ items: [], total: 0, asOf })).toEqual({
      toolCalls: [{ name: "respond", input: { text: "You have no projects yet." } }],
    });
  });

  it("names each project with its status", () => {
    const items = [
      { name: "Clock", status: "live", recentFailures: [] },
      { name: "Weather bot", status: "building", recentFailures: [] },
    ];
    expect(afterStatus({ items, total: 2, asOf })).toEqual({
      toolCalls: [{ name: "respond", input: { text: "• Clock: live\n• Weather bot: building" } }],
    });
  });
});
