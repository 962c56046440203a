// bench/release-image: what a release image of each built-in template weighs and runs as, built by
// the `ssh-compose` driver's Dockerfile (two stages: devDependencies pruned, tests and sources left
// out, run as uid 1000) next to the single-stage Dockerfile it replaced (source, install and build in
// one image, run as root), both in the same run on a private dockerd over the same deploy base image.
// Sizes are the image minus its base (what the release adds), in MB; the ratio is after / before.
//   npm run bench:release-image
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TemplateManifest } from "../src/contracts/index.js";
import { DOCKERIGNORE, dockerfileText } from "../src/deploy/index.js";
import { listTemplates, renderTemplate } from "../src/templates/index.js";
import { ensureDeployBaseImage } from "../test/support/deploy-image.js";
import { startDockerd } from "../test/support/dockerd.js";
import { printTable } from "./stats.js";
import { recordSummary, type SummaryRow, summaryRow } from "./summary.js";

const exec = promisify(execFile);
const BUILD_TIMEOUT_MS = 15 * 60_000;
const MB = 1024 * 1024;

/** The Dockerfile the driver generated before releases had two stages: everything, as root. */
function singleStageDockerfile(baseImage: string, manifest: TemplateManifest): string {
  const { commands } = manifest;
  return [
    `FROM ${baseImage}`,
    "WORKDIR /app",
    "COPY app/ /app/",
    `RUN ${JSON.stringify(commands.install)}`,
    ...(commands.build ? [`RUN ${JSON.stringify(commands.build)}`] : []),
    `CMD ${JSON.stringify(commands.start)}`,
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const dockerd = await startDockerd();
  const scratch = await mkdtemp(join(tmpdir(), "bench-release-image-"));
  const env = { ...process.env, DOCKER_HOST: dockerd.socket };
  const docker = (args: string[]) =>
    exec("docker", args, { env, timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  const sizeOf = async (image: string) =>
    Number((await docker(["image", "inspect", "--format", "{{.Size}}", image])).stdout.trim());
  const userOf = async (image: string) =>
    (await docker(["run", "--rm", "--entrypoint", "id", image, "-u"])).stdout.trim();
  try {
    const baseImage = await ensureDeployBaseImage(dockerd.docker);
    const base = await sizeOf(baseImage);
    const rows: (string | number)[][] = [];
    const summary: SummaryRow[] = [];
    for (const { name } of await listTemplates()) {
      const context = join(scratch, name);
      const manifest = await renderTemplate({
        template: name,
        into: join(context, "app"),
        variables: { projectName: "Bench", slug: "bench", description: "a release image" },
      });
      await writeFile(join(context, ".dockerignore"), DOCKERIGNORE);
      const measured: { size: number; user: string }[] = [];
      for (const [label, text] of [
        ["before", singleStageDockerfile(baseImage, manifest)],
        [
          "after",
          dockerfileText({ baseImage, manifest, projectId: "bench", releaseId: "bench", commit: "bench" }),
        ],
      ] as const) {
        const image = `bench-release-image:${name}-${label}`;
        await writeFile(join(context, "Dockerfile"), text);
        await docker(["build", "--quiet", "--network", "host", "-t", image, context]);
        measured.push({ size: (await sizeOf(image)) - base, user: await userOf(image) });
        await docker(["image", "rm", "--force", image]);
      }
      const [before, after] = measured as [{ size: number; user: string }, { size: number; user: string }];
      rows.push([name, before.size / MB, after.size / MB, after.size / before.size, before.user, after.user]);
      summary.push(
        summaryRow({
          bench: "release-image",
          measure: `${name} release image, added to its base`,
          unit: "MB",
          value: after.size / MB,
          baselineLabel: "the single-stage Dockerfile it replaced",
          baseline: before.size / MB,
        }),
      );
    }
    console.log(`base image ${baseImage}: ${(base / MB).toFixed(0)} MB (not counted below)`);
    printTable(["template", "before MB", "after MB", "after/before", "uid before", "uid after"], rows);
    await recordSummary(summary);
  } finally {
    await docker(["image", "prune", "--force"]).catch(() => undefined);
    await dockerd.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
