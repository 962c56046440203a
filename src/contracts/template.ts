import { z } from "zod";
import { Slug } from "./ids.js";

/**
 * File name of a template manifest, at the root of a template and of every repository rendered
 * from one. A plain root file rather than `.orchestrator/template.json`: `.orchestrator` is this
 * project's data directory (git-ignored here, and likely ignored in copies of our settings), and
 * the deployer reads the manifest at a commit by one well-known path a person also sees at once.
 */
export const TEMPLATE_MANIFEST_FILE = "orchestrator.json";

/** A command as data: program then arguments, never a shell string. */
export const Argv = z.array(z.string().min(1, "empty argument")).min(1, "a command needs a program");
export type Argv = z.infer<typeof Argv>;

/** What the pipeline runs in a checkout: install, test (Tester), build (optional), start (deploy). */
export const TemplateCommands = z.strictObject({
  install: Argv,
  test: Argv,
  build: Argv.optional(),
  start: Argv,
});
export type TemplateCommands = z.infer<typeof TemplateCommands>;

/**
 * How the deploy health gate decides a release is alive: an HTTP GET on `path` at the allocated
 * port, or (bots) `getMe` with the bot token in `tokenVariable` plus a probe message.
 */
export const HealthCheck = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("http"),
    path: z.string().regex(/^\/[^\s]*$/, "an absolute path such as /health"),
  }),
  z.strictObject({
    kind: z.literal("telegram"),
    tokenVariable: z.string().default("TELEGRAM_BOT_TOKEN"),
  }),
]);
export type HealthCheck = z.infer<typeof HealthCheck>;

/** Whether `path` is relative, inside the repository, with no `.`/`..`/`.git` segments. */
function isRepoPath(path: string): boolean {
  return path
    .split("/")
    .every((part) => /^[A-Za-z0-9_.-]+$/.test(part) && !/^\.+$/.test(part) && part !== ".git");
}

/** A folder path inside the repository: what a template may name as a place in every project made from it. */
export const RepoDir = z.string().max(200).refine(isRepoPath, "a relative folder such as test/acceptance");

/** A file or folder path inside the repository, as `RepoDir` but for either. */
export const RepoPath = z.string().max(200).refine(isRepoPath, "a relative path such as CONVENTIONS.md");

/**
 * Where a project's acceptance tests live and how to run them alone. The Architect writes them
 * there from the brief before any code exists; the Tester runs `test` from the prepared commit's
 * copy of `dir`, so a developer cannot weaken them. `guide` tells the Architect how to write one
 * (framework, file names, the harness the folder provides). The template's own `commands.test`
 * runs them too.
 */
export const AcceptanceTests = z.strictObject({
  dir: RepoDir,
  test: Argv,
  guide: z.string().min(1).max(1000),
});
export type AcceptanceTests = z.infer<typeof AcceptanceTests>;

/** What one instance may use; the deploy turns these into limits and placement. */
export const TemplateResources = z.strictObject({
  cpus: z.number().positive().max(64),
  memoryMb: z.number().int().min(16).max(262_144),
  diskMb: z.number().int().min(16).max(1_048_576),
});
export type TemplateResources = z.infer<typeof TemplateResources>;

/**
 * Where a variable's value comes from: a secret the person provides, a secret the orchestrator
 * generates and keeps, a value the deploy computes, a port it allocates, or a fixed literal.
 */
export const EnvKind = z.enum(["user-secret", "generated-secret", "computed", "allocated-port", "literal"]);
export type EnvKind = z.infer<typeof EnvKind>;

/**
 * Values the deploy knows how to compute (the closed set a `computed` entry may name). `DATA_DIR` is
 * a folder kept across releases and restarts (a per-project folder locally, a named volume under
 * Compose): where a project keeps what it must remember.
 */
export const ComputedValue = z.enum(["APP_ENV", "PUBLIC_URL", "TELEGRAM_API_ROOT", "DATA_DIR"]);
export type ComputedValue = z.infer<typeof ComputedValue>;

/** Environment variable names: upper snake case, as POSIX shells and every runtime accept. */
export const EnvName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, "upper snake case, e.g. TELEGRAM_BOT_TOKEN");

/** One variable of a template's environment contract; `value` only for literals, `computed` only for computed. */
export const EnvEntry = z
  .strictObject({
    name: EnvName,
    kind: EnvKind,
    required: z.boolean(),
    description: z.string().min(1).max(500),
    value: z.string().max(4096).optional(),
    computed: ComputedValue.optional(),
    /**
     * The project's CI needs this secret too: on a GitHub forge it is written as an Actions secret
     * of the repository (sealed to its key), never as a file in the repository.
     */
    ci: z.boolean().optional(),
  })
  .superRefine((entry, ctx) => {
    if (entry.ci === true && entry.kind !== "user-secret" && entry.kind !== "generated-secret")
      ctx.addIssue({
        code: "custom",
        path: ["ci"],
        message: `only a secret goes to CI, not a ${entry.kind}`,
      });
    if (entry.ci === true && entry.name.startsWith("GITHUB_"))
      ctx.addIssue({
        code: "custom",
        path: ["name"],
        message: "CI secrets named GITHUB_* are reserved by GitHub",
      });
    if (entry.kind === "literal" && entry.value === undefined)
      ctx.addIssue({ code: "custom", path: ["value"], message: "a literal needs a value" });
    if (entry.kind !== "literal" && entry.value !== undefined)
      ctx.addIssue({ code: "custom", path: ["value"], message: `a ${entry.kind} must not carry a value` });
    if (entry.kind === "computed" && entry.computed === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["computed"],
        message: "a computed variable names what to compute",
      });
    if (entry.kind !== "computed" && entry.computed !== undefined)
      ctx.addIssue({ code: "custom", path: ["computed"], message: `a ${entry.kind} is not computed` });
  });
export type EnvEntry = z.infer<typeof EnvEntry>;

/**
 * What a production release leaves out: `prune` runs after the build (e.g. `npm prune --omit=dev`,
 * dropping devDependencies) and `exclude` lists paths removed from the release (tests, sources).
 */
export const ReleaseSpec = z.strictObject({
  prune: Argv.optional(),
  exclude: z.array(RepoPath).max(50).default([]),
});
export type ReleaseSpec = z.infer<typeof ReleaseSpec>;

/** Template versions are semantic versions, so a pinned render is reproducible. */
export const TemplateVersion = z
  .string()
  .regex(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/, "a semantic version such as 1.0.0");

/**
 * The manifest (`orchestrator.json`): everything the Tester and the deploy need to know about a
 * project made from a template. Cross-field rules: variable names are unique, an HTTP health check
 * needs an allocated port, a Telegram one needs its token variable declared.
 */
export const TemplateManifest = z
  .strictObject({
    name: Slug,
    version: TemplateVersion,
    language: z.string().regex(/^[a-z][a-z0-9+#-]*$/, "lower-case language name, e.g. typescript"),
    description: z.string().min(1).max(2000),
    commands: TemplateCommands,
    /** Optional for the deploy; a template without it cannot be built by the engineering pipeline. */
    acceptance: AcceptanceTests.optional(),
    healthCheck: HealthCheck,
    resources: TemplateResources,
    env: z.array(EnvEntry).max(100),
    /**
     * The template's own section of AGENTS.md (a Markdown file in the repository: where code goes,
     * how tests are named and run, what the health check needs): appended to the generic part, so
     * the developer reads the template's conventions where it reads everything else.
     */
    conventions: RepoPath.optional(),
    release: ReleaseSpec.optional(),
  })
  .superRefine((manifest, ctx) => {
    const seen = new Set<string>();
    manifest.env.forEach((entry, index) => {
      if (seen.has(entry.name))
        ctx.addIssue({ code: "custom", path: ["env", index, "name"], message: `duplicate ${entry.name}` });
      seen.add(entry.name);
    });
    const check = manifest.healthCheck;
    if (check.kind === "http" && !manifest.env.some((e) => e.kind === "allocated-port"))
      ctx.addIssue({
        code: "custom",
        path: ["healthCheck"],
        message: "an http health check needs an allocated-port variable",
      });
    if (check.kind === "telegram" && !manifest.env.some((e) => e.name === check.tokenVariable))
      ctx.addIssue({
        code: "custom",
        path: ["healthCheck", "tokenVariable"],
        message: `${check.tokenVariable} is not declared in env`,
      });
  });
export type TemplateManifest = z.infer<typeof TemplateManifest>;
export type TemplateManifestInput = z.input<typeof TemplateManifest>;

/** Values substituted for `{{projectName}}`, `{{slug}}` and `{{description}}` at render time. */
export const TemplateVariables = z.strictObject({
  projectName: z.string().trim().min(1).max(200),
  slug: Slug,
  description: z.string().max(2000),
});
export type TemplateVariables = z.infer<typeof TemplateVariables>;

/** A pinned external template ref: a full commit SHA or a tag name (never a moving branch). */
export const ExternalTemplateRef = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[0-9A-Za-z][0-9A-Za-z._/-]*$/, "a full commit SHA or a tag name")
  .refine((ref) => !ref.includes("..") && !ref.endsWith(".lock") && !ref.endsWith("/"), "not a valid ref");

/** Where an external template lives: a git URL (https, http, ssh or file) at a pinned ref. */
export const ExternalTemplateSource = z.strictObject({
  url: z
    .string()
    .min(1)
    .max(2000)
    .regex(/^(?:https?|ssh|file):\/\/\S+$/, "an https://, http://, ssh:// or file:// URL"),
  ref: ExternalTemplateRef,
});
export type ExternalTemplateSource = z.infer<typeof ExternalTemplateSource>;
