import { DrizzleQueryError } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { mapDbError } from "./common.js";

describe("mapDbError", () => {
  it("calls pg's own connection losses, which carry no code, unavailable", () => {
    for (const message of [
      "Connection terminated unexpectedly",
      "Connection terminated due to connection timeout",
      "timeout exceeded when trying to connect",
    ]) {
      expect(mapDbError(new Error(message))).toMatchObject({
        kind: "unavailable",
        code: "database_unavailable",
      });
    }
  });

  it("calls a refused connection unavailable under Drizzle's wrapper too", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    expect(mapDbError(new DrizzleQueryError("select 1", [], refused))).toMatchObject({
      kind: "unavailable",
      code: "database_unavailable",
    });
  });

  it("keeps an error without a driver code that is not a lost connection a database error", () => {
    expect(mapDbError(new Error("syntax trouble"))).toMatchObject({
      kind: "internal",
      code: "database_error",
    });
  });
});
