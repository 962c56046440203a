import { describe, expect, it } from "vitest";
import { decide, type MonitorObservation, restartDelayMs } from "./monitor-decision.js";

const policy = { restarts: 3, restartBackoffMs: 1_000, repairsPerDay: 1 };
const seen = (over: Partial<MonitorObservation> = {}): MonitorObservation => ({
  isUp: false,
  restartsTried: 0,
  incident: null,
  autoRepair: false,
  repairsToday: 0,
  ...over,
});

describe("the health monitor's decisions", () => {
  it("leaves a healthy release alone and closes the incident of one that answers again", () => {
    expect(decide(seen({ isUp: true }), policy)).toEqual({ kind: "healthy" });
    expect(decide(seen({ isUp: true, incident: { hasRepair: true } }), policy)).toEqual({
      kind: "recovered",
    });
    // Up after restarts: no incident was opened, none to close.
    expect(decide(seen({ isUp: true, restartsTried: 2 }), policy)).toEqual({ kind: "healthy" });
  });

  it("restarts a failing release with a growing, capped backoff, then opens an incident", () => {
    const steps = [0, 1, 2].map((restartsTried) => decide(seen({ restartsTried }), policy));
    expect(steps).toEqual([
      { kind: "restart", delayMs: 1_000 },
      { kind: "restart", delayMs: 2_000 },
      { kind: "restart", delayMs: 4_000 },
    ]);
    expect(decide(seen({ restartsTried: 3 }), policy)).toEqual({
      kind: "down",
      openIncident: true,
      repair: false,
    });
    expect(restartDelayMs(8, 1_000)).toBe(10_000);
  });

  it("opens an incident at once when no restart is allowed", () => {
    expect(decide(seen(), { ...policy, restarts: 0 })).toEqual({
      kind: "down",
      openIncident: true,
      repair: false,
    });
  });

  it("tries one restart per pass while an incident is open, and opens no second one", () => {
    const open = { incident: { hasRepair: true } };
    expect(decide(seen(open), policy)).toEqual({ kind: "restart", delayMs: 1_000 });
    expect(decide(seen({ ...open, restartsTried: 1 }), policy)).toEqual({
      kind: "down",
      openIncident: false,
      repair: false,
    });
  });

  it("starts a repair only with auto-repair on, once per incident, within the day's bound", () => {
    const down = { restartsTried: 3 };
    expect(decide(seen({ ...down, autoRepair: true }), policy)).toMatchObject({ repair: true });
    expect(decide(seen({ ...down, autoRepair: false }), policy)).toMatchObject({ repair: false });
    expect(decide(seen({ ...down, autoRepair: true, repairsToday: 1 }), policy)).toMatchObject({
      repair: false,
    });
    expect(decide(seen({ ...down, autoRepair: true }), { ...policy, repairsPerDay: 0 })).toMatchObject({
      repair: false,
    });
    // An incident whose repair was not allowed at its opening gets one when it becomes allowed.
    const later = { restartsTried: 1, autoRepair: true };
    expect(decide(seen({ ...later, incident: { hasRepair: false } }), policy)).toEqual({
      kind: "down",
      openIncident: false,
      repair: true,
    });
    expect(decide(seen({ ...later, incident: { hasRepair: true } }), policy)).toMatchObject({
      repair: false,
    });
  });
});
