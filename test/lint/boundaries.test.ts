import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findViolations } from "../../scripts/check-boundaries.js";

let root: string;

async function tree(files: Record<string, string>): Promise<string> {
  root = await mkdtemp(join(tmpdir(), "boundaries-"));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("module boundary check", () => {
  it("names an import of another module's internal file, with its line", async () => {
    await tree({
      "src/deploy/index.ts": 'export * from "./driver.js";\n',
      "src/deploy/driver.ts": "export const x = 1;\n",
      "src/engine/run.ts": '// a comment\nimport { x } from "../deploy/driver.js";\nexport const y = x;\n',
    });
    expect(findViolations(root)).toEqual([
      { file: "src/engine/run.ts", line: 2, specifier: "../deploy/driver.js", module: "deploy" },
    ]);
  });

  it("catches re-exports, dynamic imports and deep paths, from tests and benchmarks too", async () => {
    await tree({
      "src/workers/index.ts": "export {};\n",
      "src/workers/runtimes/docker.ts": "export const d = 1;\n",
      "src/app/boot.ts": 'export { d } from "../workers/runtimes/docker.js";\n',
      "test/e2e/a.test.ts": 'const m = await import("../../src/workers/runtimes/docker.js");\n',
      "bench/b.ts": 'import "../src/workers/runtimes/docker.js";\n',
    });
    expect(
      findViolations(root)
        .map((v) => v.file)
        .sort(),
    ).toEqual(["bench/b.ts", "src/app/boot.ts", "test/e2e/a.test.ts"]);
  });

  it("lets a module use its own files, another's face and its conformance suites", async () => {
    await tree({
      "src/bus/index.ts": 'export * from "./bus.js";\n',
      "src/bus/bus.ts": "export const b = 1;\n",
      "src/bus/bus.conformance.ts": "export const c = 1;\n",
      "src/bus/redis/redis-bus.ts": 'import { b } from "../bus.js";\nexport const r = b;\n',
      "src/engine/a.ts":
        'import { b } from "../bus/index.js";\nimport "../bus";\nimport "node:fs";\nexport const a = b;\n',
      "test/e2e/c.test.ts": 'import { c } from "../../src/bus/bus.conformance.js";\nexport const t = c;\n',
    });
    expect(findViolations(root)).toEqual([]);
  });
});
