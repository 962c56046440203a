import { realpathSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../../contracts/index.js";
import { findHostNode, type HostNode, stageWorkerContext, WORKER_DOCKERFILE_DIR } from "./worker-image.js";

const scratch: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "worker-image-test-"));
  scratch.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of scratch.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("findHostNode", () => {
  it("finds the running node and the npm of its prefix, with their versions", async () => {
    const found = await findHostNode();
    const binary = realpathSync(process.execPath);
    expect(found.binary).toBe(binary);
    expect(found.nodeVersion).toBe(process.version);
    expect(found.npmDir).toBe(join(dirname(dirname(binary)), "lib", "node_modules", "npm"));
    const npm = JSON.parse(await readFile(join(found.npmDir, "package.json"), "utf8")) as { version: string };
    expect(found.npmVersion).toBe(npm.version);
  });

  it("follows a symlinked node (a version manager's shim) to the prefix that holds npm", async () => {
    const shim = join(await tempDir(), "bin");
    await mkdir(shim);
    await symlink(process.execPath, join(shim, "node"));
    const found = await findHostNode(join(shim, "node"));
    expect(found.binary).toBe(realpathSync(process.execPath));
    expect(found.npmDir).toBe((await findHostNode()).npmDir);
  });

  it("fails naming where it looked when no npm is beside node", async () => {
    const prefix = await tempDir();
    await mkdir(join(prefix, "bin"));
    await writeFile(join(prefix, "bin", "node"), "#!/bin/sh\necho v20.0.0\n", { mode: 0o755 });
    const failed = await findHostNode(join(prefix, "bin", "node")).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(AppError);
    expect(failed).toMatchObject({ kind: "unavailable", code: "npm_not_found" });
    expect((failed as AppError).message).toContain(join(prefix, "lib", "node_modules", "npm"));
  });
});

describe("stageWorkerContext", () => {
  async function fakeNode(): Promise<HostNode> {
    const prefix = await tempDir();
    const npmDir = join(prefix, "lib", "node_modules", "npm");
    await mkdir(join(npmDir, "bin"), { recursive: true });
    await writeFile(join(npmDir, "package.json"), '{"name":"npm","version":"10.0.0"}');
    await writeFile(join(npmDir, "bin", "npm-cli.js"), "// npm\n");
    await symlink("../bin/npm-cli.js", join(npmDir, "cli-link"));
    await mkdir(join(prefix, "bin"));
    await writeFile(join(prefix, "bin", "node"), "#!/bin/sh\n", { mode: 0o755 });
    return { binary: join(prefix, "bin", "node"), npmDir, nodeVersion: "v20.0.0", npmVersion: "10.0.0" };
  }

  it("lays out the Dockerfile, node/bin/node, npm's package (links kept) and the CA bundle", async () => {
    const node = await fakeNode();
    const caBundle = join(await tempDir(), "bundle.crt");
    await writeFile(caBundle, "-----BEGIN CERTIFICATE-----\n");
    const dir = await tempDir();
    expect(await stageWorkerContext(node, dir, caBundle)).toEqual(["Dockerfile", "node", "trust"]);
    expect(await readFile(join(dir, "Dockerfile"), "utf8")).toBe(
      await readFile(join(WORKER_DOCKERFILE_DIR, "Dockerfile"), "utf8"),
    );
    expect((await lstat(join(dir, "node", "bin", "node"))).mode & 0o111).not.toBe(0);
    const npm = join(dir, "node", "lib", "node_modules", "npm");
    expect(await readFile(join(npm, "bin", "npm-cli.js"), "utf8")).toBe("// npm\n");
    expect(await readlink(join(npm, "cli-link"))).toBe("../bin/npm-cli.js");
    expect(await readFile(join(dir, "trust", "ca-certificates.crt"), "utf8")).toContain("CERTIFICATE");
  });

  it("leaves trust/ empty when the host has no CA bundle there, so the image keeps its own", async () => {
    const dir = await tempDir();
    await stageWorkerContext(await fakeNode(), dir, join(dir, "no-such-bundle.crt"));
    await expect(readFile(join(dir, "trust", "ca-certificates.crt"))).rejects.toMatchObject({
      code: "ENOENT",
    });
    expect((await lstat(join(dir, "trust"))).isDirectory()).toBe(true);
  });
});
