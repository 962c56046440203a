import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { AppError } from "../../contracts/index.js";
import { shellCommand, shellQuote } from "./quote.js";

/** What a real POSIX shell passes to a program for `command`: the arguments `printf` received. */
function argsSeenBy(command: string): string[] {
  const out = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${command}`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

describe("shellQuote", () => {
  it("leaves plain words alone and quotes the rest", () => {
    expect(shellQuote("docker-compose")).toBe("docker-compose");
    expect(shellQuote("/srv/orchestrator/x.tar")).toBe("/srv/orchestrator/x.tar");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it("hands every hostile argument to the program byte for byte", () => {
    const hostile = [
      "",
      "two words",
      "it's",
      "'",
      "''",
      "\\",
      '"$HOME"',
      "$(touch /tmp/pwned)",
      "`id`",
      "a;b|c&d",
      "x\ny",
      "*",
      "~",
      "#comment",
      "{{.Server.Version}}",
      "-n",
      "ünïcødé ✓",
    ];
    expect(argsSeenBy(hostile.map(shellQuote).join(" "))).toEqual(hostile);
  });

  it("refuses a NUL byte", () => {
    expect(() => shellQuote("a\0b")).toThrow(AppError);
  });
});

describe("shellCommand", () => {
  it("quotes each argument and prefixes env assignments", () => {
    expect(shellCommand(["docker", "version", "--format", "{{.Server.Version}}"])).toBe(
      "docker version --format '{{.Server.Version}}'",
    );
    expect(shellCommand(["docker", "ps"], { DOCKER_HOST: "unix:///tmp/a b/docker.sock" })).toBe(
      "env 'DOCKER_HOST=unix:///tmp/a b/docker.sock' docker ps",
    );
  });

  it("runs in a real shell with the environment it was given", () => {
    const command = shellCommand(["sh", "-c", 'printf "%s" "$X"'], { X: "it's $(not run)" });
    expect(execFileSync("/bin/sh", ["-c", command], { encoding: "utf8" })).toBe("it's $(not run)");
  });

  it("refuses an empty command, a program with '=' and a bad variable name", () => {
    expect(() => shellCommand([])).toThrow(AppError);
    expect(() => shellCommand(["A=b", "x"])).toThrow(AppError);
    expect(() => shellCommand(["true"], { "BAD NAME": "x" })).toThrow(/bad environment variable name/);
  });
});
