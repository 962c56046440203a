/**
 * Reads ops/docker-compose.yml the way Compose does: `docker-compose config` (Debian's 1.29) with
 * an env file, every variable interpolated, anchors merged, volumes normalised. Its YAML is turned
 * into JSON by the PyYAML that docker-compose itself runs on, so no YAML parser is added to ours.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository's ops/ folder. */
export const OPS_DIR = fileURLToPath(new URL("../../ops/", import.meta.url));

/** One service of `docker-compose config`: the fields the tests read. */
export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: { published?: number | string; target: number }[];
  restart?: string;
  healthcheck?: { test: string[]; interval?: string };
  depends_on?: Record<string, { condition: string }>;
  group_add?: string[];
}

export interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** Parses YAML text into JSON with python3's yaml module (a dependency of docker-compose 1.29). */
export function yamlToJson(text: string): unknown {
  const json = execFileSync(
    "python3",
    ["-c", "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
    { input: text, encoding: "utf8" },
  );
  return JSON.parse(json);
}

/** Parses YAML files in one python3 run (each run costs a second on a busy machine), by path. */
export function readYamlFiles(paths: string[]): Map<string, unknown> {
  const script =
    "import sys, json, yaml\njson.dump([yaml.safe_load(open(p)) for p in sys.argv[1:]], sys.stdout)";
  const parsed = JSON.parse(
    execFileSync("python3", ["-c", script, ...paths], { encoding: "utf8" }),
  ) as unknown[];
  return new Map(paths.map((path, i) => [path, parsed[i]]));
}

/** `docker-compose -f ops/docker-compose.yml --env-file <envFile> config`, parsed; throws with its stderr. */
export function composeConfig(envFile = `${OPS_DIR}.env.example`): ComposeConfig {
  let yaml: string;
  try {
    yaml = execFileSync(
      "docker-compose",
      ["-f", `${OPS_DIR}docker-compose.yml`, "--env-file", envFile, "config"],
      // Interpolation reads the process's environment before the env file: keep ours out of it.
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH } },
    );
  } catch (error) {
    const { stderr = "" } = error as { stderr?: string };
    throw new Error(`docker-compose config failed:\n${stderr}`);
  }
  return yamlToJson(yaml) as ComposeConfig;
}

/** An orchestrator role service: one whose command is `serve --roles <role>`. */
export interface RoleService {
  name: string;
  role: string;
  service: ComposeService;
}

/** The role services of a compose config, in the file's order. */
export function roleServices(config: ComposeConfig): RoleService[] {
  return Object.entries(config.services).flatMap(([name, service]) => {
    const [verb, flag, role] = service.command ?? [];
    return verb === "serve" && flag === "--roles" && role ? [{ name, role, service }] : [];
  });
}

/** A short-syntax volume `source:target[:mode]` of `config`'s output, split. */
export function volumeMount(spec: string): { source: string; target: string; mode: string } {
  const [source = "", target = "", mode = "rw"] = spec.split(":");
  return { source, target, mode };
}
