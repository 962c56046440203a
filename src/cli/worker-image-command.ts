import type { Command } from "commander";
import { z } from "zod";
import { ENV_VARS } from "../config/index.js";
import { parseOrThrow } from "../contracts/index.js";
import { printOk } from "./output.js";

/** The tag the docker runtime starts workers from: `WORKER_IMAGE`, else its default. */
function defaultTag(env: NodeJS.ProcessEnv): string {
  return env.WORKER_IMAGE?.trim() || ENV_VARS.WORKER_IMAGE.default;
}

const BuildOptions = z.object({
  tag: z.string().trim().min(1).optional(),
  base: z.string().trim().min(1).optional(),
});

/**
 * `orchestrator worker-image build [--tag] [--base]`: the one way to make the docker runtime's image,
 * in the engine of `DOCKER_HOST`. Build output goes to stderr line by line; stdout gets the usual
 * JSON document (the tag, image id and the Node and npm versions inside), or the error with exit 1.
 */
export function addWorkerImageCommand(program: Command): void {
  program
    .command("worker-image")
    .description("The image of docker workers (WORKER_RUNTIME=docker).")
    .command("build")
    .description(
      "Build the worker image (ops/worker/Dockerfile) with this orchestrator's Node and npm inside, in the Docker engine of DOCKER_HOST.",
    )
    .option("--tag <tag>", `image tag (default: WORKER_IMAGE, else ${ENV_VARS.WORKER_IMAGE.default})`)
    .option(
      "--base <image>",
      "base image: the local orchestrator-base:bookworm (the default) or a registry one like debian:bookworm-slim",
    )
    .action(async (raw: { tag?: string; base?: string }) => {
      const options = parseOrThrow(BuildOptions, raw, "options");
      const tag = options.tag ?? defaultTag(process.env);
      const say = (line: string) => process.stderr.write(`${line}\n`);
      say(`building ${tag}${options.base ? ` on ${options.base}` : ""}`);
      const { buildWorkerImage, dockerFromEnv } = await import("../workers/index.js");
      const built = await buildWorkerImage({
        docker: await dockerFromEnv(process.env),
        tag,
        ...(options.base ? { base: options.base } : {}),
        onProgress: say,
      });
      say(`built ${built.tag} (node ${built.nodeVersion}, npm ${built.npmVersion})`);
      printOk(built);
    });
}
