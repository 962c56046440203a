import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readConventions } from "./preparer.js";

describe("the template's conventions for AGENTS.md", () => {
  let dir = "";
  const notes: string[] = [];
  const note = async (message: string) => notes.push(message);
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "conventions-"));
    notes.length = 0;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the named file, and nothing when the manifest names none", async () => {
    await writeFile(join(dir, "CONVENTIONS.md"), "## Where code goes\n");
    expect(await readConventions(dir, { conventions: "CONVENTIONS.md" }, note)).toBe("## Where code goes\n");
    expect(await readConventions(dir, {}, note)).toBeNull();
    expect(notes).toEqual([]);
  });

  it("leaves out a missing file, a symlink (never what it points at) and an oversized file, saying so", async () => {
    const secret = join(dir, "outside-key");
    await writeFile(secret, "SECRET-KEY-MATERIAL");
    await symlink(secret, join(dir, "LINKED.md"));
    await writeFile(join(dir, "HUGE.md"), "x".repeat(40 * 1024));
    for (const conventions of ["MISSING.md", "LINKED.md", "HUGE.md"]) {
      expect(await readConventions(dir, { conventions }, note), conventions).toBeNull();
    }
    expect(notes).toHaveLength(3);
    expect(notes[1]).toContain("LINKED.md (the template's conventions) is missing or not a plain file");
    expect(notes.join("\n")).not.toContain("SECRET-KEY-MATERIAL");
  });
});
