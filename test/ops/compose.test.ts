import { execFileSync } from "node:child_process";
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { AGENT_CREDENTIAL_VARS, ENV_VARS } from "../../src/config/index.js";
import { ProcessRole } from "../../src/contracts/index.js";
import {
  type ComposeConfig,
  composeConfig,
  OPS_DIR,
  type RoleService,
  readYamlFiles,
  roleServices,
  volumeMount,
} from "../support/compose.js";

const ROOT = resolve(OPS_DIR, "..");
/** The roles the compose file runs: those `serve` knows today and those it is about to learn. */
const ROLES = ["api", "engine", "workers", "chat", "scheduler"];
/** Variables the compose file gives a role that the orchestrator does not read itself. */
const COMPOSE_ONLY_VARS = new Set(["WORKERS_HOST_DIR"]);

const YAML_FILES = [
  "prometheus/prometheus.compose.yml",
  "grafana/provisioning/datasources/orchestrator.yml",
  "grafana/provisioning/dashboards/orchestrator.yml",
  "loki/promtail.compose.yml",
].map((path) => join(OPS_DIR, path));

let config: ComposeConfig;
let roles: RoleService[];
let yaml: Map<string, unknown>;
beforeAll(() => {
  config = composeConfig();
  roles = roleServices(config);
  yaml = readYamlFiles(YAML_FILES);
});

/** A YAML file of ops/ read in `beforeAll`. */
function yamlOf(path: string): unknown {
  expect(yaml.has(path), path).toBe(true);
  return yaml.get(path);
}

/** The host path (in ops/) a service mounts at `target`, from `config`'s absolute sources. */
function mountedFile(service: string, target: string): string {
  const mount = (config.services[service]?.volumes ?? []).map(volumeMount).find((m) => m.target === target);
  expect(mount, `${service} mounts ${target}`).toBeDefined();
  return mount?.source ?? "";
}

describe("ops/docker-compose.yml (docker-compose config)", () => {
  it("runs every role as its own service, from the image ops/Dockerfile builds", () => {
    expect(roles.map((r) => r.role).sort()).toEqual([...ROLES].sort());
    // Every role `serve` knows has its service.
    for (const role of ProcessRole.options) expect(roles.map((r) => r.role)).toContain(role);
    for (const { name, role, service } of roles) {
      expect(name).toBe(role);
      expect(service.image).toBe("codegen-orchestrator:latest");
      expect(service.build).toEqual({ context: ROOT.replace(/\/$/, ""), dockerfile: "ops/Dockerfile" });
      expect(service.restart, name).toBe("unless-stopped");
      expect(service.depends_on, name).toEqual({
        postgres: { condition: "service_healthy" },
        redis: { condition: "service_healthy" },
      });
    }
  });

  it("checks each role's GET /health on the port it listens on", () => {
    for (const { name, service } of roles) {
      const port = service.environment?.ORCHESTRATOR_PORT;
      expect(port, name).toBe("8080");
      const test = service.healthcheck?.test ?? [];
      expect(test[0], name).toBe("CMD");
      expect(test.join(" "), name).toContain(`http://127.0.0.1:${port}/health`);
    }
    for (const name of ["postgres", "redis", "prometheus", "loki", "grafana"]) {
      expect(config.services[name]?.healthcheck?.test.length, name).toBeGreaterThan(0);
      expect(config.services[name]?.restart, name).toBe("unless-stopped");
    }
  });

  it("publishes the api's port and Grafana's, nothing else", () => {
    const published = Object.entries(config.services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => `${name}:${p.published}->${p.target}`),
    );
    expect(published.sort()).toEqual(["api:8080->8080", "grafana:3000->3000"]);
  });

  it("keeps state in named volumes, each declared", () => {
    const declared = Object.keys(config.volumes ?? {});
    const named = (service: string) =>
      (config.services[service]?.volumes ?? []).map(volumeMount).filter((m) => !m.source.startsWith("/"));
    for (const [service, target] of [
      ["postgres", "/var/lib/postgresql/data"],
      ["redis", "/data"],
      ["api", "/var/lib/orchestrator"],
      ["engine", "/var/lib/orchestrator"],
      ["prometheus", "/prometheus"],
      ["loki", "/loki"],
      ["grafana", "/var/lib/grafana"],
    ] as const) {
      const mount = named(service).find((m) => m.target === target);
      expect(mount, `${service}: a named volume at ${target}`).toBeDefined();
      expect(declared).toContain(mount?.source);
    }
    // The api and the engine share one data directory: the engine reads the repositories.
    expect(named("api")).toEqual(named("engine"));
    for (const { name, service } of roles.filter((r) => r.role !== "workers")) {
      const dataDir = service.environment?.ORCHESTRATOR_DATA_DIR ?? "";
      expect(named(name).some((m) => m.source === "orchestrator-data" && m.target === dataDir)).toBe(true);
    }
  });

  it("points the workers at the host's Docker engine, with sandboxes' paths the same on both sides", () => {
    const workers = config.services.workers;
    const env = workers?.environment ?? {};
    expect(env.WORKER_RUNTIME).toBe("docker");
    const mounts = (workers?.volumes ?? []).map(volumeMount);
    const socket = new URL(env.DOCKER_HOST ?? "").pathname;
    expect(mounts).toContainEqual({ source: "/var/run/docker.sock", target: socket, mode: "rw" });
    const hostDir = env.WORKERS_HOST_DIR ?? "";
    expect(hostDir).toMatch(/^\//);
    expect(mounts).toContainEqual({ source: hostDir, target: hostDir, mode: "rw" });
    expect(env.ORCHESTRATOR_DATA_DIR?.startsWith(`${hostDir}/`)).toBe(true);
    expect(workers?.group_add?.length).toBe(1);
    expect(workers?.entrypoint).toEqual(["/usr/local/bin/workers-entrypoint"]);
    expect(env.WORKER_API_URL).toMatch(/^http:\/\//);
  });

  it("gives each role only variables the orchestrator reads, model keys to the api and chat alone", () => {
    const known = new Set<string>([...Object.keys(ENV_VARS), ...AGENT_CREDENTIAL_VARS]);
    const keys = new Set<string>(AGENT_CREDENTIAL_VARS.filter((v) => v !== "FACTORY_API_KEY"));
    for (const { name, service } of roles) {
      const env = service.environment ?? {};
      for (const variable of Object.keys(env)) {
        expect(known.has(variable) || COMPOSE_ONLY_VARS.has(variable), `${name}: ${variable}`).toBe(true);
        if (keys.has(variable)) expect(["api", "chat"], `${variable} in ${name}`).toContain(name);
      }
      // The same vault key, store and bus everywhere.
      expect(env.ORCHESTRATOR_SECRET_KEY).toBe(config.services.api?.environment?.ORCHESTRATOR_SECRET_KEY);
      expect(new URL(env.DATABASE_URL ?? "").hostname).toBe("postgres");
      expect(new URL(env.REDIS_URL ?? "").hostname).toBe("redis");
      if (name !== "api") expect(env.WORKER_API_URL, name).toBeTruthy();
    }
  });

  it("scrapes every role service with Prometheus, and alerts with the same rules", () => {
    const command = config.services.prometheus?.command ?? [];
    const file = /--config\.file=(\S+)/.exec(command.join(" "))?.[1] ?? "";
    const dir = mountedFile("prometheus", "/etc/prometheus");
    expect(file.startsWith("/etc/prometheus/")).toBe(true);
    const path = join(dir, file.slice("/etc/prometheus/".length));
    expect(path).toBe(join(OPS_DIR, "prometheus", "prometheus.compose.yml"));
    const prometheus = yamlOf(path) as {
      rule_files: string[];
      scrape_configs: {
        job_name: string;
        dns_sd_configs?: { names: string[]; port: number }[];
        relabel_configs?: { source_labels?: string[]; target_label?: string }[];
      }[];
    };
    expect(prometheus.rule_files).toEqual(["alerts.yml"]);
    const [job] = prometheus.scrape_configs;
    expect(job?.job_name).toBe("orchestrator");
    const names = (job?.dns_sd_configs ?? []).flatMap((d) => d.names);
    expect(names.sort()).toEqual(roles.map((r) => r.name).sort());
    for (const sd of job?.dns_sd_configs ?? []) expect(String(sd.port)).toBe("8080");
    // Each target is labelled `process` with its service's name, as the localhost config labels them.
    expect(job?.relabel_configs).toContainEqual({
      source_labels: ["__meta_dns_name"],
      target_label: "process",
    });

    // promtool accepts it (the token file is the operator's: a placeholder beside it here).
    const copy = mkdtempSync(join(tmpdir(), "ops-prometheus-compose-"));
    try {
      cpSync(dir, copy, { recursive: true });
      writeFileSync(join(copy, "orchestrator.token"), "not-a-real-token\n", { mode: 0o600 });
      const out = execFileSync("promtool", ["check", "config", join(copy, "prometheus.compose.yml")], {
        encoding: "utf8",
      });
      expect(out).toContain("is valid prometheus config file syntax");
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("provisions Grafana with the dashboard and both data sources", () => {
    const provisioning = mountedFile("grafana", "/etc/grafana/provisioning");
    expect(provisioning).toBe(join(OPS_DIR, "grafana", "provisioning"));
    const sources = yamlOf(join(provisioning, "datasources", "orchestrator.yml")) as {
      datasources: { type: string; url: string }[];
    };
    const urls = Object.fromEntries(sources.datasources.map((d) => [d.type, new URL(d.url)]));
    expect(urls.prometheus?.hostname).toBe("prometheus");
    expect(urls.loki?.hostname).toBe("loki");
    expect(Object.keys(config.services)).toEqual(expect.arrayContaining(["prometheus", "loki"]));
    const providers = yamlOf(join(provisioning, "dashboards", "orchestrator.yml")) as {
      providers: { options: { path: string } }[];
    };
    const dashboardDir = providers.providers[0]?.options.path ?? "";
    expect(mountedFile("grafana", `${dashboardDir}/orchestrator.json`)).toBe(
      join(OPS_DIR, "grafana", "orchestrator.json"),
    );
  });

  it("ships the role containers' logs to Loki with Promtail", () => {
    const file = mountedFile("promtail", "/etc/promtail/promtail.compose.yml");
    expect(file).toBe(join(OPS_DIR, "loki", "promtail.compose.yml"));
    expect(config.services.promtail?.command).toEqual(["-config.file=/etc/promtail/promtail.compose.yml"]);
    expect(mountedFile("promtail", "/var/run/docker.sock")).toBe("/var/run/docker.sock");
    const promtail = yamlOf(file) as {
      clients: { url: string }[];
      scrape_configs: { relabel_configs: { action?: string; regex?: string }[] }[];
    };
    expect(new URL(promtail.clients[0]?.url ?? "").hostname).toBe("loki");
    const keep = promtail.scrape_configs[0]?.relabel_configs.find((r) => r.action === "keep");
    expect(keep?.regex?.split("|").sort()).toEqual(roles.map((r) => r.name).sort());
  });

  it("reads its secrets from an env file that git ignores, documented in .env.example", () => {
    const compose = readFileSync(join(OPS_DIR, "docker-compose.yml"), "utf8");
    const example = readFileSync(join(OPS_DIR, ".env.example"), "utf8");
    const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    // Every variable the compose file requires (`${NAME:?...}`) is in the example.
    const required = [...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*):\?/g)].map((m) => m[1]);
    expect(required.length).toBeGreaterThan(0);
    for (const name of required) expect(documented.has(name), name).toBe(true);
    // The real env file is never committed.
    expect(execFileSync("git", ["check-ignore", "ops/.env"], { cwd: ROOT, encoding: "utf8" }).trim()).toBe(
      "ops/.env",
    );
    // Without its secrets, Compose refuses to start anything and names the first missing one.
    const empty = join(mkdtempSync(join(tmpdir(), "ops-env-")), ".env");
    writeFileSync(empty, "");
    try {
      expect(() => composeConfig(empty)).toThrow(/set [A-Z_]+ in ops\/\.env/);
    } finally {
      rmSync(empty, { force: true });
    }
  });
});

describe("ops/Dockerfile", () => {
  const dockerfile = readFileSync(join(OPS_DIR, "Dockerfile"), "utf8");
  const instructions = dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((line) => /^[A-Z]+\s/.test(line));

  it("builds Node 20 on Debian 12 from files that exist in its context", () => {
    expect(instructions[0]).toMatch(/^FROM node:20-bookworm/);
    const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8");
    const copies = instructions.filter((line) => line.startsWith("COPY "));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const sources = copy.split(/\s+/).slice(1, -1);
      for (const source of sources) {
        expect(existsSync(join(ROOT, source)), `COPY ${source}`).toBe(true);
        // .dockerignore leaves everything out but what it lets in: each source is let in.
        const path = source.replace(/\/$/, "");
        expect(ignore, `.dockerignore lets ${path} in`).toMatch(
          new RegExp(`^!${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(/\\*\\*)?$`, "m"),
        );
      }
    }
    // `npm ci` runs the build (the `prepare` script), which writes the CLI the image starts.
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.prepare).toBe("npm run build");
    expect(dockerfile).toMatch(/npm ci\b/);
    expect(dockerfile).toContain("test -f dist/cli/main.js");
    expect(existsSync(join(ROOT, "src", "cli", "main.ts"))).toBe(true);
  });

  it("runs the CLI as an unprivileged user, and the workers' entrypoint it copies in", () => {
    const entrypoint = JSON.parse(
      instructions.find((l) => l.startsWith("ENTRYPOINT "))?.slice(11) ?? "[]",
    ) as string[];
    const bin = entrypoint.find((arg) => arg.endsWith("bin/orchestrator.js")) ?? "";
    expect(bin.startsWith("/opt/orchestrator/")).toBe(true);
    expect(instructions).toContain("WORKDIR /opt/orchestrator");
    expect(dockerfile).toContain(`ln -s ${bin} /usr/local/bin/orchestrator`);
    // bin/orchestrator.js runs dist/cli/main.js.
    expect(readFileSync(join(ROOT, "bin", "orchestrator.js"), "utf8")).toContain("../dist/cli/main.js");
    const user = instructions.filter((l) => l.startsWith("USER ")).at(-1);
    expect(user).toBe("USER node");
    expect(instructions).toContain('CMD ["serve"]');

    const copy = instructions.find((l) => l.includes("ops/workers-entrypoint.sh")) ?? "";
    expect(copy.split(/\s+/).at(-1)).toBe(config.services.workers?.entrypoint?.[0]);
    const script = join(OPS_DIR, "workers-entrypoint.sh");
    accessSync(script, constants.X_OK);
    // It ends by running the same CLI, from its copy on the shared host folder.
    expect(readFileSync(script, "utf8")).toMatch(
      /exec \/usr\/bin\/tini -- .*\/app\/bin\/orchestrator\.js" "\$@"/,
    );
    expect(execFileSync("sh", ["-n", script], { encoding: "utf8" })).toBe("");
  });
});
