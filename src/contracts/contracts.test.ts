import { describe, expect, it } from "vitest";
import {
  AppError,
  BusEnvelope,
  DeploymentStatusMachine,
  ProjectCreate,
  parseOrThrow,
  RunStatusMachine,
  statusMachines,
  UserCreate,
  WorkerStateMachine,
} from "./index.js";

describe("status machines", () => {
  it("allow the pipeline's legal moves", () => {
    expect(RunStatusMachine.assertTransition("queued", "running")).toBe("running");
    expect(RunStatusMachine.canTransition("running", "blocked")).toBe(true);
    expect(WorkerStateMachine.canTransition("paused", "running")).toBe(true);
    expect(DeploymentStatusMachine.canTransition("healthy", "rolled_back")).toBe(true);
  });

  it("refuse illegal moves with a conflict naming both ends", () => {
    const attempt = () => RunStatusMachine.assertTransition("failed", "succeeded");
    expect(attempt).toThrow(AppError);
    expect(attempt).toThrow("run cannot move from failed to succeeded");
    try {
      attempt();
    } catch (error) {
      expect((error as AppError).kind).toBe("conflict");
    }
    expect(RunStatusMachine.canTransition("queued", "succeeded")).toBe(false);
    expect(WorkerStateMachine.canTransition("gone", "running")).toBe(false);
  });

  it("terminal states have no way out, and every move names a known state", () => {
    for (const m of statusMachines) {
      const values = m.values as readonly string[];
      for (const from of values) {
        for (const to of values) {
          if (m.isTerminal(from as never)) expect(m.canTransition(from as never, to as never)).toBe(false);
        }
      }
      expect(m.terminal.length).toBeGreaterThan(0);
    }
    expect(RunStatusMachine.terminal).toEqual(["succeeded", "failed", "blocked", "cancelled"]);
  });
});

describe("entity schemas", () => {
  it("report every bad field with its path", () => {
    try {
      parseOrThrow(ProjectCreate, { name: "", slug: "Not A Slug", ownerId: "x" });
      expect.unreachable();
    } catch (error) {
      const paths = (error as AppError).details.map((d) => d.path).sort();
      expect(paths).toEqual(["name", "ownerId", "slug"]);
    }
  });

  it("require a user to have a Telegram id or a web login", () => {
    expect(UserCreate.safeParse({ name: "Ann" }).success).toBe(false);
    expect(UserCreate.safeParse({ name: "Ann", telegramId: "42" }).success).toBe(true);
  });

  it("validate bus envelopes", () => {
    const ok = BusEnvelope.safeParse({
      id: "1-0",
      type: "run.requested",
      payload: {},
      createdAt: new Date().toISOString(),
    });
    expect(ok.success).toBe(true);
    expect(
      BusEnvelope.safeParse({ id: "1", type: "Bad Type", payload: {}, createdAt: "yesterday" }).success,
    ).toBe(false);
  });
});
