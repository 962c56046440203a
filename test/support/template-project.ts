/**
 * Runs a rendered template's own commands for real (npm install reaches the npm registry), as the
 * Tester and the local deploy driver would: child environments from an allow-list, each command in
 * its own process group, killed at a deadline.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import type { Argv, TemplateManifest } from "../../src/contracts/index.js";
import { freePort } from "./ports.js";

const INSTALL_AND_TEST_MS = 150_000;
const STOP_DEADLINE_MS = 5_000;
/** What the rendered project's commands inherit from us; everything else is left out. */
const PASSED_ENV = [
  "PATH",
  "HOME",
  "LANG",
  "NODE_EXTRA_CA_CERTS",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
];

/** The allow-listed part of our environment plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of PASSED_ENV) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

/** A started command: its process and everything it printed so far. */
export interface Started {
  child: ChildProcess;
  output(): string;
}

/** Starts `argv` in its own process group, output collected. */
export function start(argv: Argv, cwd: string, env: Record<string, string>): Started {
  const [program, ...args] = argv;
  const child = spawn(program ?? "false", args, {
    cwd,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  return { child, output: () => output };
}

/** Resolves with the exit code once `child` has exited (null when a signal ended it). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** SIGTERM to the group, SIGKILL after the deadline; resolves with the exit code. */
export async function stop(child: ChildProcess): Promise<number | null> {
  const done = exited(child);
  const signal = (name: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, name);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), STOP_DEADLINE_MS);
  const code = await done;
  clearTimeout(timer);
  return code;
}

/** Runs a command to completion (killed at the deadline); returns its exit code and output. */
export async function run(
  argv: Argv,
  cwd: string,
  env = childEnv(),
): Promise<{ code: number | null; output: string }> {
  const { child, output } = start(argv, cwd, env);
  const timer = setTimeout(() => void stop(child), INSTALL_AND_TEST_MS);
  const code = await exited(child);
  clearTimeout(timer);
  return { code, output: output() };
}

/**
 * Installs, tests and builds a rendered template with its manifest's commands, asserting each
 * succeeds and that the tests ran (node:test's summary, TAP or spec, shows some passed and none
 * failed). Returns the test command's output for further checks.
 */
export async function installTestBuild(
  manifest: TemplateManifest,
  dir: string,
  env = childEnv(),
): Promise<string> {
  const install = await run(manifest.commands.install, dir, env);
  expect(install.code, install.output).toBe(0);
  const test = await run(manifest.commands.test, dir, env);
  expect(test.code, test.output).toBe(0);
  expect(test.output).toMatch(/^(?:#|ℹ) fail 0\s*$/m);
  expect(test.output).not.toMatch(/^(?:#|ℹ) pass 0\s*$/m);
  if (manifest.commands.build) {
    const build = await run(manifest.commands.build, dir, env);
    expect(build.code, build.output).toBe(0);
  }
  return test.output;
}

/** A started HTTP template: its process, port and base URL, and what /health answered (or undefined). */
export interface StartedHttp {
  started: Started;
  port: number;
  base: string;
  health: unknown;
}

/**
 * Starts a built HTTP template from `cwd` on a free port with `env` (PORT is set here), waiting
 * (bounded, as the deploy health gate does) until its health path answers 200; `health` is that
 * answer's JSON, or undefined when it never came (the caller asserts, with the output).
 */
export async function startHttp(
  manifest: TemplateManifest,
  cwd: string,
  env: Record<string, string>,
): Promise<StartedHttp> {
  const port = await freePort();
  const started = start(manifest.commands.start, cwd, childEnv({ ...env, PORT: String(port) }));
  const base = `http://127.0.0.1:${port}`;
  const path = manifest.healthCheck.kind === "http" ? manifest.healthCheck.path : "/health";
  let health: unknown;
  for (let attempt = 0; attempt < 100 && health === undefined; attempt++) {
    health = await fetch(`${base}${path}`)
      .then((res) => (res.ok ? res.json() : undefined))
      .catch(() => undefined);
    if (health === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { started, port, base, health };
}

/** Trims a built project in `dir` as a production release is: the manifest's `prune`, then its `exclude`d paths removed. */
export async function trimAsRelease(manifest: TemplateManifest, dir: string): Promise<void> {
  const prune = manifest.release?.prune;
  if (prune) {
    const pruned = await run(prune, dir);
    expect(pruned.code, pruned.output).toBe(0);
  }
  for (const path of manifest.release?.exclude ?? [])
    await rm(join(dir, path), { recursive: true, force: true });
}
