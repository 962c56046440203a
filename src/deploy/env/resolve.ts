import {
  AppError,
  type ComputedValue,
  type EnvEntry,
  type EnvKind,
  type TemplateManifest,
} from "../../contracts/index.js";
import type { SecretsService } from "../../secrets/index.js";

/**
 * Values the deploy computes for `computed` variables; an absent (or empty) one is "not available",
 * which for a required variable counts as missing (a bot has no `PUBLIC_URL`).
 */
export type ComputedEnv = Partial<Record<ComputedValue, string>>;

/** The environment of a release, or the names of required variables that have no value (never values). */
export type EnvResolution = { ok: true; env: Record<string, string> } | { ok: false; missing: string[] };

/**
 * Builds a release's environment from the template's contract, entry by entry: user secrets from
 * the vault, generated secrets via `ensureGenerated` (created on the first deploy, the same ever
 * after), computed values from `computed`, ports from `ports` (keyed by variable name), literals
 * from the manifest. Optional variables without a value are left out. A required variable without
 * a value is listed in `missing`; generated secrets are still created, so a retry finds them.
 * An `allocated-port` entry without a port is the caller's bug (`internal`), not something to
 * ask the person for.
 */
export async function resolveEnvironment(opts: {
  manifest: TemplateManifest;
  projectId: string;
  secrets: SecretsService;
  computed: ComputedEnv;
  ports: Record<string, number>;
}): Promise<EnvResolution> {
  const env: Record<string, string> = {};
  const missing: string[] = [];
  for (const entry of opts.manifest.env) {
    const value = await resolveEntry(entry, opts);
    if (value !== null) env[entry.name] = value;
    else if (entry.required) missing.push(entry.name);
  }
  return missing.length > 0 ? { ok: false, missing } : { ok: true, env };
}

type Entry = EnvEntry;

async function resolveEntry(
  entry: Entry,
  opts: { projectId: string; secrets: SecretsService; computed: ComputedEnv; ports: Record<string, number> },
): Promise<string | null> {
  switch (entry.kind) {
    case "user-secret":
      return opts.secrets.get(opts.projectId, entry.name);
    case "generated-secret":
      return opts.secrets.ensureGenerated(opts.projectId, entry.name);
    case "computed": {
      const value = entry.computed === undefined ? undefined : opts.computed[entry.computed];
      return value === undefined || value === "" ? null : value;
    }
    case "allocated-port": {
      const port = opts.ports[entry.name];
      if (port === undefined) {
        if (!entry.required) return null;
        throw new AppError("internal", "port_not_allocated", `no port was allocated for ${entry.name}`, {
          details: [{ path: `ports.${entry.name}`, message: "required by the template, not allocated" }],
        });
      }
      if (!Number.isInteger(port) || port < 1 || port > 65_535) {
        throw new AppError("internal", "port_out_of_range", `the port for ${entry.name} is not a TCP port`, {
          details: [{ path: `ports.${entry.name}`, message: "an integer from 1 to 65535" }],
        });
      }
      return String(port);
    }
    case "literal":
      return entry.value ?? null;
  }
}

/** What the Product Owner may know about one variable: its name and whether it has a value, never the value. */
export interface EnvEntryStatus {
  name: string;
  kind: EnvKind;
  required: boolean;
  description: string;
  /**
   * True when the deploy will have a value without the person's help: a stored user secret, or
   * any other kind (generated, computed, allocated and literal values are the orchestrator's job).
   */
  isFilled: boolean;
}

/**
 * The environment contract as the Product Owner sees it: per variable its name, kind, whether it is
 * required and filled. Reads secret metadata only; no value is decrypted.
 */
export async function describeEnvironment(
  manifest: TemplateManifest,
  projectId: string,
  secrets: SecretsService,
): Promise<EnvEntryStatus[]> {
  const filled = new Set(
    (await secrets.listMeta(projectId)).filter((meta) => meta.isFilled).map((meta) => meta.key),
  );
  return manifest.env.map((entry) => ({
    name: entry.name,
    kind: entry.kind,
    required: entry.required,
    description: entry.description,
    isFilled: entry.kind === "user-secret" ? filled.has(entry.name) : true,
  }));
}
