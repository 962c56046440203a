import { describe, expect, it } from "vitest";
import { AppError } from "../../contracts/index.js";
import type { ExecOutcome, WorkerService } from "../../workers/index.js";
import { CLONE_TRIES, cloneIntoWorkspace } from "./sandbox-git.js";

const outcome = (exitCode: number, stderr = ""): ExecOutcome => ({
  exitCode,
  signal: null,
  stdout: "",
  stderr,
  timedOut: false,
  durationMs: 1,
});

/** A workers service whose `exec` answers from `answer` and records every command it was given. */
function fakeWorkers(answer: (argv: string[], clones: number) => ExecOutcome | Error) {
  const commands: string[][] = [];
  let clones = 0;
  const workers = {
    exec: async (_workerId: string, argv: string[]) => {
      commands.push(argv);
      if (argv.includes("clone")) clones += 1;
      const result = answer(argv, clones);
      if (result instanceof Error) throw result;
      return result;
    },
  } as unknown as WorkerService;
  return { workers, commands };
}

const isClone = (argv: string[]) => argv.includes("clone");

describe("cloneIntoWorkspace", () => {
  it("clones again into a cleared workspace after a clone cut short", async () => {
    const { workers, commands } = fakeWorkers((argv, clones) =>
      isClone(argv) && clones === 1 ? outcome(128, "fatal: early EOF") : outcome(0),
    );
    await cloneIntoWorkspace(workers, "w1", "http://api/git/p.git", "main");
    const kinds = commands.map((argv) => (isClone(argv) ? "clone" : (argv[0] ?? "")));
    // The clone writes the workspace's config itself: nothing runs after the clone that worked.
    expect(kinds).toEqual(["clone", "find", "clone"]);
    expect(commands.at(-1)).toContain("--config");
  });

  it("fails with git's words once every try failed", async () => {
    const { workers, commands } = fakeWorkers((argv) =>
      isClone(argv) ? outcome(128, "fatal: repository not found") : outcome(0),
    );
    await expect(cloneIntoWorkspace(workers, "w1", "http://api/git/p.git", "main")).rejects.toMatchObject({
      code: "sandbox_command_failed",
      message: expect.stringContaining("repository not found"),
    });
    expect(commands.filter(isClone)).toHaveLength(CLONE_TRIES);
  });

  it("does not clone again when the worker itself is lost", async () => {
    const lost = new AppError("conflict", "worker_gone", "the sandbox of worker w1 no longer exists");
    const { workers, commands } = fakeWorkers(() => lost);
    await expect(cloneIntoWorkspace(workers, "w1", "http://api/git/p.git", "main")).rejects.toBe(lost);
    expect(commands).toHaveLength(1);
  });
});
