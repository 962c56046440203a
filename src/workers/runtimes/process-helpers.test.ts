import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bwrapArgs, type HostLayout, probeBwrap } from "./process-bwrap.js";
import { parsePids } from "./process-sandbox-files.js";
import { collectTree, type ProcStat, parseProcStat } from "./process-tree.js";

describe("parseProcStat", () => {
  it("reads the fields after a command name holding spaces and parentheses", () => {
    const line =
      "4242 (we (ird) name) S 10 4242 4242 0 -1 4194560 100 0 0 0 250 50 30 20 20 0 1 0 987654 1000 100 " +
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
    expect(parseProcStat(line)).toEqual({
      pid: 4242,
      ppid: 10,
      pgid: 4242,
      state: "S",
      startTime: 987654,
      cpuMs: 3500,
    });
    expect(parseProcStat("garbage")).toBeNull();
  });
});

describe("collectTree", () => {
  const p = (pid: number, ppid: number, pgid: number): ProcStat => ({
    pid,
    ppid,
    pgid,
    state: "S",
    startTime: 1,
    cpuMs: 0,
  });

  it("takes the group and every descendant, also in other sessions, but never pid 1", () => {
    const all = [
      p(1, 0, 1),
      p(100, 1, 100),
      p(101, 100, 100),
      p(102, 101, 102),
      p(103, 102, 102),
      p(200, 1, 200),
    ];
    expect([...collectTree([100], all)].sort()).toEqual([100, 101, 102, 103]);
    expect(collectTree([1], all).has(1)).toBe(false);
  });
});

describe("parsePids", () => {
  it("reads pid and start time per line and skips nonsense", () => {
    expect(parsePids("12 345\n13\nx y\n1 5\n\n")).toEqual([
      { pid: 12, startTime: 345 },
      { pid: 13, startTime: null },
    ]);
  });
});

describe("bwrapArgs", () => {
  const layout: HostLayout = {
    bwrap: "/usr/bin/bwrap",
    dirs: ["/etc", "/usr"],
    symlinks: [{ path: "/bin", target: "usr/bin" }],
    masked: ["/etc/shadow"],
    extra: [],
  };
  const args = bwrapArgs(layout, {
    hostWorkspace: "/data/workers/w1/workspace",
    hostHome: "/data/workers/w1/home",
    hostNpmCache: "/data/workers/.caches/p1/npm",
    bindReadOnly: ["/tmp/pkg/node_modules", "/usr/lib/node", "/opt/node"],
    cwd: "/workspace/sub",
  });
  const at = (...needle: string[]) =>
    args.findIndex((_, i) => needle.every((value, k) => args[i + k] === value));

  it("maps uid 1000 with private pid namespace and session, dying with its parent", () => {
    expect(args.slice(0, 6)).toEqual(["--unshare-user", "--uid", "1000", "--gid", "1000", "--unshare-pid"]);
    expect(args).toContain("--die-with-parent");
    expect(args).toContain("--new-session");
    expect(args).not.toContain("--unshare-net");
  });

  it("shows the system read-only, masks secrets, and mounts /tmp before binds under it", () => {
    expect(at("--ro-bind", "/usr", "/usr")).toBeGreaterThan(0);
    expect(at("--symlink", "usr/bin", "/bin")).toBeGreaterThan(0);
    expect(at("--ro-bind", "/dev/null", "/etc/shadow")).toBeGreaterThan(0);
    const tmp = at("--perms", "1777", "--tmpfs", "/tmp");
    expect(tmp).toBeGreaterThan(0);
    expect(at("--ro-bind", "/tmp/pkg/node_modules", "/tmp/pkg/node_modules")).toBeGreaterThan(tmp);
    expect(at("--ro-bind", "/opt/node", "/opt/node")).toBeGreaterThan(tmp);
    // Already visible through /usr: no second bind.
    expect(at("--ro-bind", "/usr/lib/node", "/usr/lib/node")).toBe(-1);
  });

  it("binds workspace, HOME and the npm cache writable and ends read-only at the requested cwd", () => {
    expect(at("--bind", "/data/workers/w1/workspace", "/workspace")).toBeGreaterThan(0);
    expect(at("--bind", "/data/workers/w1/home", "/home/worker")).toBeGreaterThan(0);
    expect(at("--bind", "/data/workers/.caches/p1/npm", "/var/cache/npm")).toBeGreaterThan(0);
    expect(args.slice(-4)).toEqual(["--remount-ro", "/", "--chdir", "/workspace/sub"]);
  });
});

describe("probeBwrap", () => {
  it("asks again after a refusal, and says bwrap's own reason when it keeps refusing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "probe-bwrap-"));
    try {
      // Refuses the first time (as a busy host may), then works.
      const flaky = join(dir, "flaky");
      await writeFile(
        flaky,
        `#!/bin/sh\nif [ -e ${dir}/seen ]; then exit 0; fi\ntouch ${dir}/seen\necho "bwrap: No space left on device" >&2\nexit 1\n`,
        { mode: 0o755 },
      );
      expect(await probeBwrap(flaky)).toBeNull();
      const refusing = join(dir, "refusing");
      await writeFile(
        refusing,
        `#!/bin/sh\necho "bwrap: No permissions to create new namespace" >&2\nexit 1\n`,
        {
          mode: 0o755,
        },
      );
      expect(await probeBwrap(refusing, 2)).toBe("bwrap: No permissions to create new namespace");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
