import { describe, expect, it } from "vitest";
import { type HealthTransition, uptimeOf } from "./monitor.js";

const HOUR = 3_600_000;
const now = new Date("2026-12-04T12:00:00.000Z");
const at = (hoursAgo: number, isUp: boolean): HealthTransition => ({
  id: "00000000-0000-4000-8000-000000000001",
  projectId: "00000000-0000-4000-8000-000000000002",
  deploymentId: null,
  isUp,
  reason: isUp ? null : "down",
  at: new Date(now.getTime() - hoursAgo * HOUR).toISOString(),
});

describe("uptime over a window", () => {
  it("is unknown before the monitor saw anything", () => {
    expect(uptimeOf([], now, 24 * HOUR)).toEqual({
      ratio: null,
      windowSeconds: 86_400,
      observedSeconds: 0,
      downSeconds: 0,
    });
  });

  it("counts only the observed part of the window, from the state it starts in", () => {
    // Up since 30 hours ago (before the window), down 6 hours ago for 3 hours.
    const uptime = uptimeOf([at(30, true), at(6, false), at(3, true)], now, 24 * HOUR);
    expect(uptime).toEqual({
      ratio: 21 / 24,
      windowSeconds: 86_400,
      observedSeconds: 86_400,
      downSeconds: 10_800,
    });
    // Watched for the last 4 hours only, down the last one.
    const young = uptimeOf([at(4, true), at(1, false)], now, 24 * HOUR);
    expect(young).toMatchObject({ ratio: 0.75, observedSeconds: 4 * 3_600, downSeconds: 3_600 });
  });
});
