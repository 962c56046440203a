import { describe, expect, it } from "vitest";
import { runCli } from "../../test/support/cli.js";

// The built binary, as a person runs it; these inputs are refused before any request is made.
const env = {
  PATH: process.env.PATH ?? "",
  ORCHESTRATOR_API_URL: "http://127.0.0.1:9",
  ORCHESTRATOR_TOKEN: "x",
};

describe("tool commands", () => {
  it("give a tool's own --version option to the tool, not the program's version flag", async () => {
    const res = await runCli(
      ["agent-config", "restore", "--node", "architect", "--version", "2147483648"],
      env,
    );
    expect(res.stdout).not.toMatch(/^\d+\.\d+\.\d+\s*$/);
    expect(res.code).toBe(1);
    expect(res.json.error?.details).toEqual([expect.objectContaining({ path: "version" })]);
  });

  it("still answer the program's --version before any command", async () => {
    const res = await runCli(["--version"], env);
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
