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

  it("gives each project's health, uptime over 24 h, last deploy and open incidents", () => {
    const items = [
      {
        name: "Clock",
        status: "live",
        health: { state: "down", reason: "the health monitor found it down: status 500" },
        uptime24h: { ratio: 0.9876, windowSeconds: 86_400, observedSeconds: 600, downSeconds: 7 },
        lastDeploy: { status: "succeeded", finishedAt: "2026-12-04T15:01:02.000Z" },
        openIncidents: [{ openedAt: "2026-12-04T15:03:00.000Z", reason: "status 500" }],
      },
      // As the model reads it: no nulls, no empty lists.
      { name: "Draft", status: "draft", health: { state: "none" }, uptime24h: { windowSeconds: 86_400 } },
    ];
    const text = afterStatus({ items, total: 2, asOf }).toolCalls?.[0]?.input.text;
    expect(text).toBe(
      [
        "• Clock: live; health down (the health monitor found it down: status 500); uptime 24h 98.7%; last deploy succeeded 2026-12-04 15:01; open incidents: 1 (since 2026-12-04 15:03: status 500)",
        "• Draft: draft; health none; uptime 24h not measured yet; last deploy: none yet; open incidents: none",
      ].join("\n"),
    );
  });
});
