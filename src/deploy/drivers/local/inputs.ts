import { isAbsolute } from "node:path";
import { z } from "zod";
import { EnvName, Id, Slug, TemplateManifest, Timestamp } from "../../../contracts/index.js";
import { CommitSha } from "../../../git/index.js";
import { ReleaseId } from "./layout.js";

/** The most lines `logs` returns. */
export const MAX_LOG_LINES = 10_000;

/** Only `null` is a valid server for this driver. */
export const LocalServer = z.null({
  error: "the local driver runs releases on this machine: server must be null",
});

/** `BuildSpec` as the local driver accepts it. */
export const BuildSpecInput = z.object({
  projectId: Id,
  slug: Slug,
  commit: CommitSha,
  source: z.object({
    url: z
      .string()
      .min(1)
      .max(2000)
      .refine((url) => !url.startsWith("-"), "a URL or path, not an option"),
    env: z.record(z.string(), z.string()),
  }),
  manifest: TemplateManifest,
  server: LocalServer,
});

export const ReleaseInput = z.object({
  id: ReleaseId,
  projectId: Id,
  commit: CommitSha,
  location: z.string().min(1),
  builtAt: Timestamp,
});

/** `RunSpec` as the local driver accepts it. */
export const RunSpecInput = z.object({
  release: ReleaseInput,
  // Values are secrets: the schema names a bad variable, never echoes its value.
  env: z.record(
    EnvName,
    z
      .string()
      .max(65_536)
      .refine((value) => !value.includes("\0"), "contains a NUL character"),
  ),
  port: z.number().int().min(1).max(65_535).nullable(),
  manifest: TemplateManifest,
  slug: Slug,
  server: LocalServer,
});

/** The project arguments of `stop`, `isRunning`, `logs`, `releases` and `prune`. */
export const ProjectInput = z.object({ projectId: Id, server: LocalServer });

/** The driver's settings (the logger aside): an absolute root and positive bounds. */
export const LocalDriverSettings = z.object({
  root: z.string().refine(isAbsolute, "an absolute path"),
  installTimeoutMs: z.number().int().positive().optional(),
  buildTimeoutMs: z.number().int().positive().optional(),
  stopGraceMs: z.number().int().min(0).optional(),
  restart: z
    .object({
      initialDelayMs: z.number().int().positive().optional(),
      maxDelayMs: z.number().int().positive().optional(),
      resetAfterMs: z.number().int().positive().optional(),
      maxRestarts: z.number().int().min(0).optional(),
    })
    .optional(),
});
