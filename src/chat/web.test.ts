import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openToolBed, type ToolBed } from "../../test/support/tool-bed.js";
import type { DeployRunResult } from "../contracts/index.js";
import { ChatFeed } from "./feed.js";
import { WebChat } from "./web.js";

let bed: ToolBed;
let web: WebChat;

beforeAll(async () => {
  bed = await openToolBed();
  web = new WebChat({
    store: bed.store,
    inbox: {
      receive: () => Promise.reject(new Error("not used by these tests")),
      press: () => Promise.reject(new Error("not used by these tests")),
    },
    secrets: { fillSecret: () => Promise.reject(new Error("not used by these tests")) },
    feed: new ChatFeed(),
    model: async () => "scripted",
    demo: false,
  });
});
afterAll(async () => {
  await bed?.close();
});

/** A project of `userId` put live by a deploy whose health gate met the bot `botUsername`. */
async function liveBot(userId: string, name: string, botUsername: string) {
  const project = await bed.store.projects.create({ name, ownerId: userId });
  const run = await bed.store.runs.create({
    projectId: project.id,
    kind: "deploy",
    input: { projectId: project.id, action: "deploy", commit: "a".repeat(40), sourceRunId: null },
  });
  await bed.store.runs.transition(run.id, "running");
  const result: DeployRunResult = {
    outcome: "succeeded",
    action: "deploy",
    commit: "a".repeat(40),
    release: "r-1",
    deploymentId: null,
    url: null,
    botUsername,
    missing: [],
    restoredPrevious: false,
    summary: `@${botUsername} is live`,
  };
  await bed.store.runs.transition(run.id, "succeeded", { result });
  for (const to of ["deploying", "live"] as const) await bed.store.projects.setStatus(project.id, to);
  return project;
}

describe("the web chat's projects", () => {
  it("lists the person's own projects, a live bot with the name its deploy met", async () => {
    await liveBot(bed.alice.userId, "Weather bot", "weather_e2e_bot");
    await liveBot(bed.bob.userId, "Bob's bot", "bobs_e2e_bot");
    const draft = await bed.store.projects.create({ name: "Idea", ownerId: bed.alice.userId });
    const items = await web.projects(bed.alice);
    expect(items.map((p) => p.name).sort()).toEqual(["Idea", "Weather bot"]);
    expect(items.find((p) => p.name === "Weather bot")).toMatchObject({
      status: "live",
      url: null,
      botUsername: "weather_e2e_bot",
    });
    expect(items.find((p) => p.id === draft.id)).toMatchObject({ status: "draft", botUsername: null });
  });
});
