import { describe, expect, it } from "vitest";
import type { Worker } from "../contracts/index.js";
import { decideSession, freshSessionPrompt } from "./sessions.js";

const now = Date.parse("2026-11-25T12:00:00Z");
const worker = (over: Partial<Worker>): Worker =>
  ({ sessionId: "s-1", contextTokens: 1000, lastActivityAt: "2026-11-25T11:00:00.000Z", ...over }) as Worker;
const limits = { maxContextTokens: 150_000, maxAgeMs: 24 * 3_600_000 };

describe("decideSession", () => {
  it("continues a recent, small session", () => {
    expect(decideSession(worker({}), true, limits, now)).toEqual({ resume: true, sessionId: "s-1" });
  });
  it("starts fresh when there is none, when asked, when full or when stale", () => {
    expect(decideSession(worker({ sessionId: null }), true, limits, now).resume).toBe(false);
    expect(decideSession(worker({}), false, limits, now).resume).toBe(false);
    expect(decideSession(worker({ contextTokens: 150_000 }), true, limits, now)).toMatchObject({
      resume: false,
      reason: expect.stringContaining("150000"),
    });
    expect(
      decideSession(worker({ lastActivityAt: "2026-11-24T11:59:00.000Z" }), true, limits, now),
    ).toMatchObject({ resume: false, reason: "session idle too long" });
  });
});

describe("freshSessionPrompt", () => {
  it("puts the project summary before the message, and nothing when there is none", () => {
    expect(freshSessionPrompt("Bot", "", "do it")).toBe("do it");
    expect(freshSessionPrompt("Bot", "Has /start.", "do it")).toBe(
      'Project "Bot" so far:\nHas /start.\n\n---\n\ndo it',
    );
  });
});
