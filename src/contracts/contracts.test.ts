import { describe, expect, it } from "vitest";
import {
  AppError,
  BusEnvelope,
  DeploymentStatusMachine,
  ERROR_CODES_BY_MODULE,
  ErrorCode,
  isErrorCode,
  ProjectCreate,
  parseOrThrow,
  type RunOutcomeCode,
  RunStatusMachine,
  RunVerdictCode,
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

describe("error codes", () => {
  it("are snake_case and each belongs to exactly one module", () => {
    const all = Object.values(ERROR_CODES_BY_MODULE).flat();
    for (const code of all) expect(code).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
    const owners = new Map<string, string[]>();
    for (const [module, codes] of Object.entries(ERROR_CODES_BY_MODULE)) {
      for (const code of codes) owners.set(code, [...(owners.get(code) ?? []), module]);
    }
    const shared = [...owners].filter(([, modules]) => modules.length > 1);
    expect(shared).toEqual([]);
    expect([...ErrorCode.options].sort()).toEqual([...all].sort());
  });

  it("keep the strings API answers and the CLI print", () => {
    const error = new AppError("not_found", "not_found", "project p not found");
    expect(error.toBody()).toEqual({ code: "not_found", message: "project p not found", details: [] });
    expect(isErrorCode("invalid_config")).toBe(true);
    expect(isErrorCode("no_such_code")).toBe(false);
  });

  it("refuse a free string at compile time", () => {
    // @ts-expect-error: a code outside the modules' unions does not compile.
    const typo = new AppError("invalid", "invalid_inptu", "bad input");
    // The guard above is the test (tsc fails if the line compiles); at runtime the code is kept as given.
    expect(isErrorCode(typo.code)).toBe(false);
  });

  it("close the codes a run ends with: verdicts, agent turns and module errors", () => {
    const ends: RunOutcomeCode[] = [
      "tests_green",
      "developer_max_turns",
      "architect_question",
      "build_failed",
    ];
    // @ts-expect-error: a run cannot end with a code nobody declared.
    const typo: RunOutcomeCode = "tests_gren";
    // @ts-expect-error: nor with a role that takes no agent turn.
    const tester: RunOutcomeCode = "tester_failed";
    expect(ends.filter((code) => RunVerdictCode.safeParse(code).success)).toEqual(["tests_green"]);
    const verdictsThatAreErrors = RunVerdictCode.options.filter((code) => isErrorCode(code));
    expect(verdictsThatAreErrors).toEqual([]);
    expect([typo, tester].some((code) => RunVerdictCode.safeParse(code).success || isErrorCode(code))).toBe(
      false,
    );
  });

  it("keep a code another process answered with, as sent", () => {
    const error = AppError.fromBody("unavailable", {
      code: "http_502",
      message: "bad gateway",
      details: [{ path: "", message: "upstream" }],
    });
    expect(error.code).toBe("http_502");
    expect(error.toBody().details).toEqual([{ path: "", message: "upstream" }]);
  });
});
