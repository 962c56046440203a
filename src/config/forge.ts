import { z } from "zod";
import type { ConfigProblem } from "./errors.js";
import type { EnvVarSpec } from "./values.js";

/** A GitHub login: what `GITHUB_OWNER` names (a user or an organisation). */
const GithubLogin = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "a GitHub user or organisation login");
const HttpUrl = z.url({ protocol: /^https?$/, error: "an http(s) URL" });

/** Where projects' repositories live: our own bare repositories, or GitHub. */
export const FORGE_VARS = {
  FORGE: {
    schema: z.enum(["local", "github"], { error: "local or github" }),
    doc: "Where projects' repositories live: `local` (bare repositories in the data directory, served by the API) or `github`",
    default: "local",
  },
  GITHUB_TOKEN: {
    // Printable, no spaces: a token pasted with a newline or quotes is named at start.
    schema: z
      .string()
      .regex(/^[\x21-\x7e]{8,255}$/, "a GitHub token (ghp_..., github_pat_...) without spaces"),
    doc: "With `FORGE=github`: a token that may create repositories for `GITHUB_OWNER`, push to them and write their Actions secrets; held by the API and engine, never given to a sandbox",
  },
  GITHUB_OWNER: {
    schema: GithubLogin,
    doc: "With `FORGE=github`: the user (the token's own) or organisation that owns projects' repositories",
  },
  GITHUB_API_URL: {
    schema: HttpUrl,
    doc: "GitHub's REST API (GitHub Enterprise: `https://HOST/api/v3`)",
    default: "https://api.github.com",
  },
  GITHUB_GIT_URL: {
    schema: HttpUrl,
    doc: "Base of GitHub's git URLs (default: `https://github.com` for api.github.com, the host of `/api/v3`, else `GITHUB_API_URL`)",
  },
} as const satisfies Record<string, EnvVarSpec>;

/** The `forge` section of the typed settings: `local`, or GitHub with what reaching it takes. */
export const ForgeSettings = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("local") }),
  z.object({
    kind: z.literal("github"),
    /** A secret: never logged, masked by the redactor, never in a sandbox. */
    token: z.string(),
    owner: z.string(),
    apiUrl: z.string(),
    gitUrl: z.string(),
  }),
]);
export type ForgeSettings = z.infer<typeof ForgeSettings>;

/** GitHub's git host for its API URL: github.com for api.github.com, the host of an Enterprise `/api/v3`. */
export function githubGitUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.hostname === "api.github.com") return "https://github.com";
  const path = url.pathname.replace(/\/+$/, "");
  if (path.endsWith("/api/v3")) return `${url.origin}${path.slice(0, -"/api/v3".length)}`;
  return `${url.origin}${path}`;
}

/** The values `forgeSettings` reads, already validated one by one (null when unset or bad). */
export interface ForgeValues {
  kind: "local" | "github" | null;
  token: string | null;
  owner: string | null;
  apiUrl: string | null;
  gitUrl: string | null;
}

/**
 * The forge settings; with `FORGE=github`, a missing token or owner is a problem naming the
 * variable (so the process stops at start, not at the first project).
 */
export function forgeSettings(values: ForgeValues, problems: ConfigProblem[]): ForgeSettings {
  if (values.kind !== "github") return { kind: "local" };
  // A variable set but malformed is already a problem of its own.
  const missing = (variable: string, what: string) => {
    if (!problems.some((p) => p.variable === variable))
      problems.push({ variable, message: `required with FORGE=github: ${what}` });
  };
  if (!values.token) missing("GITHUB_TOKEN", "a token that may create repositories for GITHUB_OWNER");
  if (!values.owner) missing("GITHUB_OWNER", "the user or organisation owning the repositories");
  const apiUrl = values.apiUrl ?? "https://api.github.com";
  return {
    kind: "github",
    token: values.token ?? "",
    owner: values.owner ?? "",
    apiUrl,
    gitUrl: values.gitUrl ?? githubGitUrl(apiUrl),
  };
}
