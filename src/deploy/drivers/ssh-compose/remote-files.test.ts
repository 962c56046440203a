import { describe, expect, it } from "vitest";
import type { TemplateManifest } from "../../../contracts/index.js";
import { AppError } from "../../../contracts/index.js";
import { composeFileText, dockerfileText, envFileText } from "./remote-files.js";

const manifest: TemplateManifest = {
  name: "web-service",
  version: "1.0.0",
  language: "typescript",
  description: "x",
  commands: {
    install: ["npm", "install"],
    test: ["npm", "test"],
    build: ["npm", "run", "build"],
    start: ["node", "dist/src/main.js"],
  },
  healthCheck: { kind: "http", path: "/health" },
  resources: { cpus: 0.5, memoryMb: 256, diskMb: 512 },
  env: [{ name: "PORT", kind: "allocated-port", required: true, description: "port" }],
};

describe("generated release files", () => {
  it("writes the manifest's commands as exec-form JSON in the Dockerfile", () => {
    const text = dockerfileText({
      baseImage: "node:20-bookworm-slim",
      manifest,
      projectId: "p",
      releaseId: "r",
      commit: "c",
    });
    expect(text).toContain('FROM node:20-bookworm-slim\nLABEL "orchestrator.project.id"="p"\n');
    expect(text).toContain('RUN ["npm","install"]\n');
    expect(text).toContain('RUN ["npm","run","build"]\n');
    expect(text).toContain('CMD ["node","dist/src/main.js"]\n');
    const noBuild = { ...manifest, commands: { ...manifest.commands, build: undefined } };
    expect(
      dockerfileText({ baseImage: "b:1", manifest: noBuild, projectId: "p", releaseId: "r", commit: "c" }),
    ).not.toContain('"build"');
    expect(() =>
      dockerfileText({
        baseImage: "evil\nRUN rm -rf /",
        manifest,
        projectId: "p",
        releaseId: "r",
        commit: "c",
      }),
    ).toThrow(AppError);
  });

  it("builds in one stage and runs in another: production files only, as an unprivileged user", () => {
    const release = { prune: ["npm", "prune", "--omit=dev"], exclude: ["test", "src"] };
    const text = dockerfileText({
      baseImage: "node:22-bookworm-slim",
      manifest: { ...manifest, release },
      projectId: "p",
      releaseId: "r",
      commit: "c",
    });
    const [, build = "", run = ""] = text.split(/\n(?=FROM )/);
    expect(build).toMatch(/^FROM node:22-bookworm-slim AS build$/m);
    expect(build).toContain(
      'RUN ["npm","install"]\nRUN ["npm","run","build"]\nRUN ["npm","prune","--omit=dev"]\n',
    );
    expect(build).toContain('RUN ["rm","-rf","--","/app/test","/app/src"]');
    expect(run).toMatch(/^FROM node:22-bookworm-slim$/m);
    expect(run).toContain('LABEL "orchestrator.project.id"="p"');
    expect(run).toContain("COPY --from=build /app /app");
    expect(run).toContain('RUN ["install","-d","-m","0700","-o","1000","-g","1000","/data"]');
    expect(run).not.toContain("npm");
    expect(run.indexOf("USER 1000:1000")).toBeLessThan(run.indexOf("CMD"));
    expect(run).toContain('CMD ["node","dist/src/main.js"]');
    // Without a release spec nothing is pruned or removed, and the release still runs unprivileged.
    const plain = dockerfileText({ baseImage: "b:1", manifest, projectId: "p", releaseId: "r", commit: "c" });
    expect(plain).not.toContain('"prune"');
    expect(plain).not.toContain('"rm"');
    expect(plain).toContain("USER 1000:1000");
  });

  it("mounts the project's one data volume at /data in every release", () => {
    const input = {
      projectId: "p",
      commit: "c",
      image: "orch-p:r",
      port: null,
      manifest,
      buildNetwork: null,
    };
    const first = JSON.parse(composeFileText({ ...input, releaseId: "r1" }));
    const second = JSON.parse(composeFileText({ ...input, releaseId: "r2" }));
    expect(first.services.app.volumes).toEqual(["orch-p-data:/data"]);
    expect(first.volumes).toEqual({
      "orch-p-data": { name: "orch-p-data", labels: { "orchestrator.project.id": "p" } },
    });
    expect(second.volumes).toEqual(first.volumes);
  });

  it("writes one labelled service with the port published only when there is one", () => {
    const input = {
      projectId: "p",
      releaseId: "r",
      commit: "c",
      image: "orch-p:r",
      port: 4321,
      manifest,
      buildNetwork: "host",
    };
    const file = JSON.parse(composeFileText(input));
    expect(file.services.app).toMatchObject({
      build: { context: ".", network: "host" },
      image: "orch-p:r",
      env_file: [".env"],
      ports: ["4321:4321"],
      restart: "unless-stopped",
      init: true,
      labels: { "orchestrator.project.id": "p", "orchestrator.release": "r" },
    });
    expect(
      JSON.parse(composeFileText({ ...input, port: null, buildNetwork: null })).services.app,
    ).not.toHaveProperty("ports");
  });

  it("single-quotes env values for each Compose generation and refuses what would change", () => {
    expect(envFileText({ A: "plain", B: "it's \\ fine" }, "v1")).toBe("A='plain'\nB='it\\'s \\\\ fine'\n");
    expect(envFileText({ B: "it's \\ fine" }, "v2")).toBe("B='it\\'s \\ fine'\n");
    expect(envFileText({}, "v1")).toBe("");
    for (const [value, flavor] of [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${...} is what v1 would expand
      ["${HOME}", "v1"],
      ["ends with \\", "v1"],
      ["a\\'b", "v2"],
      ["nul\0", "v2"],
    ] as const) {
      try {
        envFileText({ SECRET: value }, flavor);
        throw new Error("expected a rejection");
      } catch (error) {
        expect((error as AppError).code).toBe("env_value_unrepresentable");
        expect((error as AppError).details[0]?.path).toBe("env.SECRET");
        expect(JSON.stringify((error as AppError).toBody())).not.toContain(value);
      }
    }
    expect(() => envFileText({ "BAD-NAME": "x" }, "v1")).toThrow(/bad environment variable name/);
  });
});
