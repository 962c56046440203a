import type { Capacity, ComposeCommand, ServerFacts } from "../../contracts/index.js";
import type { ExecResult, SshConnection } from "../ssh/index.js";

const KIB_PER_MB = 1024;
/** Exit code of a shell for a program it cannot find. */
const NOT_FOUND_EXIT = 127;

/** What the check requires of a server beyond Docker and Compose. */
export interface ProbeRequirements {
  minFreeDiskMb: number;
  minAvailableMemoryMb: number;
}

export interface ProbeOptions {
  /** `DOCKER_HOST` for docker and compose on this server, or null for its default engine. */
  dockerHost: string | null;
  timeoutMs: number;
}

/** The OS name from `/etc/os-release` (`PRETTY_NAME`, else `NAME VERSION`), or null. */
export function parseOsRelease(text: string): string | null {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) fields.set(match[1], match[2].replace(/^(["'])(.*)\1$/, "$2"));
  }
  const pretty = fields.get("PRETTY_NAME");
  if (pretty) return pretty;
  const name = fields.get("NAME");
  return name ? [name, fields.get("VERSION")].filter(Boolean).join(" ") : null;
}

/** Size and free space in MB of the filesystem in `df -Pk` output (second line), or null. */
export function parseDf(text: string): { totalMb: number; freeMb: number } | null {
  const line = text.trim().split("\n")[1];
  const fields = line?.trim().split(/\s+/) ?? [];
  const total = Number(fields[1]);
  const free = Number(fields[3]);
  if (fields.length < 6 || !Number.isFinite(total) || !Number.isFinite(free)) return null;
  return { totalMb: Math.floor(total / KIB_PER_MB), freeMb: Math.floor(free / KIB_PER_MB) };
}

/** Total and available memory in MB from `/proc/meminfo` (`MemAvailable`, else `MemFree`), or null. */
export function parseMeminfo(text: string): { totalMb: number; availableMb: number } | null {
  const kib = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(text);
    return match?.[1] ? Number(match[1]) : null;
  };
  const total = kib("MemTotal");
  const available = kib("MemAvailable") ?? kib("MemFree");
  if (total === null || available === null) return null;
  return { totalMb: Math.floor(total / KIB_PER_MB), availableMb: Math.floor(available / KIB_PER_MB) };
}

/** The CPU count `nproc` printed, or null. */
export function parseNproc(text: string): number | null {
  const count = Number(text.trim());
  return Number.isInteger(count) && count > 0 ? count : null;
}

/** The capacity a check records: all three measures, or null when one could not be read. */
export function capacityOf(facts: ServerFacts): Capacity | null {
  if (facts.cpuCores === null || facts.memoryMb === null || facts.diskMb === null) return null;
  if (facts.memoryMb === 0 || facts.diskMb === 0) return null;
  return { cpuCores: facts.cpuCores, memoryMb: facts.memoryMb, diskMb: facts.diskMb };
}

function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find(Boolean) ?? ""
  ).slice(0, 300);
}

/** Why a command did not give an answer: not installed, or its first line of complaint. */
function whyFailed(program: string, result: ExecResult): string {
  const said = firstLine(result.stderr) || firstLine(result.stdout);
  if (result.code === NOT_FOUND_EXIT) return `${program} is not installed${said ? ` (${said})` : ""}`;
  return `${program} failed (exit ${result.code ?? result.signal})${said ? `: ${said}` : ""}`;
}

function dockerEnv(dockerHost: string | null): Record<string, string> {
  return dockerHost ? { DOCKER_HOST: dockerHost } : {};
}

/**
 * Finds Compose on a server: `docker compose` (v2) first, else `docker-compose` (v1, or a v2
 * standalone binary by that name, told apart by its version). Null when neither answers.
 */
export async function detectCompose(
  conn: SshConnection,
  options: ProbeOptions,
): Promise<ComposeCommand | null> {
  const env = dockerEnv(options.dockerHost);
  const candidates: string[][] = [["docker", "compose"], ["docker-compose"]];
  for (const argv of candidates) {
    const result = await conn.exec([...argv, "version", "--short"], { timeoutMs: options.timeoutMs, env });
    const version = result.stdout.trim().replace(/^v/, "");
    if (result.code !== 0 || !/^\d+\.\d+/.test(version)) continue;
    return { argv, flavor: version.startsWith("1.") ? "v1" : "v2", version };
  }
  return null;
}

/**
 * The provisioning check: reads the OS, CPUs, memory and free disk, asks Docker for its server
 * version (so the engine is running and reachable, not only installed) and finds Compose. Returns
 * the facts and one plain sentence per missing or insufficient piece, naming it.
 */
export async function probeServer(
  conn: SshConnection,
  options: ProbeOptions,
  requirements: ProbeRequirements,
): Promise<{ facts: ServerFacts; problems: string[] }> {
  const run = (argv: string[], env: Record<string, string> = {}) =>
    conn.exec(argv, { timeoutMs: options.timeoutMs, env });
  const [osRelease, df, meminfo, nproc, docker, compose] = await Promise.all([
    run(["cat", "/etc/os-release"]),
    run(["df", "-Pk", "/"]),
    run(["cat", "/proc/meminfo"]),
    run(["nproc"]),
    run(["docker", "version", "--format", "{{.Server.Version}}"], dockerEnv(options.dockerHost)),
    detectCompose(conn, options),
  ]);
  const problems: string[] = [];
  const os = osRelease.code === 0 ? parseOsRelease(osRelease.stdout) : null;
  if (os === null) problems.push(`os: cannot read /etc/os-release (${whyFailed("cat", osRelease)})`);
  const disk = df.code === 0 ? parseDf(df.stdout) : null;
  if (disk === null) problems.push(`disk: cannot read free space (${whyFailed("df", df)})`);
  else if (disk.freeMb < requirements.minFreeDiskMb)
    problems.push(`disk: only ${disk.freeMb} MB free on / (need ${requirements.minFreeDiskMb} MB)`);
  const memory = meminfo.code === 0 ? parseMeminfo(meminfo.stdout) : null;
  if (memory === null) problems.push("memory: cannot read /proc/meminfo");
  else if (memory.availableMb < requirements.minAvailableMemoryMb)
    problems.push(
      `memory: only ${memory.availableMb} MB available (need ${requirements.minAvailableMemoryMb} MB)`,
    );
  const cpuCores = nproc.code === 0 ? parseNproc(nproc.stdout) : null;
  if (cpuCores === null) problems.push(`cpu: cannot count CPUs (${whyFailed("nproc", nproc)})`);
  const dockerVersion = docker.code === 0 ? docker.stdout.trim() || null : null;
  if (dockerVersion === null) problems.push(`docker: ${whyFailed("docker", docker)}`);
  if (compose === null) {
    problems.push(
      "compose: neither `docker compose` (v2) nor `docker-compose` (v1) is installed and working",
    );
  }
  return {
    facts: {
      os,
      cpuCores,
      memoryMb: memory?.totalMb ?? null,
      memoryAvailableMb: memory?.availableMb ?? null,
      diskMb: disk?.totalMb ?? null,
      diskFreeMb: disk?.freeMb ?? null,
      dockerVersion,
      compose,
    },
    problems,
  };
}
