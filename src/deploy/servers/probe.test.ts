import { describe, expect, it } from "vitest";
import type { ServerFacts } from "../../contracts/index.js";
import { capacityOf, parseDf, parseMeminfo, parseNproc, parseOsRelease } from "./probe.js";

describe("server check parsers", () => {
  it("reads the OS name from /etc/os-release", () => {
    const debian = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n';
    expect(parseOsRelease(debian)).toBe("Debian GNU/Linux 12 (bookworm)");
    expect(parseOsRelease("NAME=Alpine\nVERSION='3.20'\n")).toBe("Alpine 3.20");
    expect(parseOsRelease("garbage")).toBeNull();
  });

  it("reads size and free space from df -Pk", () => {
    const df =
      "Filesystem     1024-blocks      Used Available Capacity Mounted on\n" +
      "overlay         102687672  40000000  57428080      42% /\n";
    expect(parseDf(df)).toEqual({ totalMb: 100280, freeMb: 56082 });
    expect(parseDf("Filesystem 1024-blocks\n")).toBeNull();
  });

  it("reads total and available memory from /proc/meminfo", () => {
    const meminfo = "MemTotal:        8048640 kB\nMemFree:          100000 kB\nMemAvailable:    4024320 kB\n";
    expect(parseMeminfo(meminfo)).toEqual({ totalMb: 7860, availableMb: 3930 });
    expect(parseMeminfo("MemTotal:        2048 kB\nMemFree:        1024 kB\n")).toEqual({
      totalMb: 2,
      availableMb: 1,
    });
    expect(parseMeminfo("nothing")).toBeNull();
  });

  it("reads the CPU count and builds capacity only from complete measures", () => {
    expect(parseNproc("4\n")).toBe(4);
    expect(parseNproc("")).toBeNull();
    const facts: ServerFacts = {
      os: "Debian",
      cpuCores: 2,
      memoryMb: 4096,
      memoryAvailableMb: 2000,
      diskMb: 50_000,
      diskFreeMb: 20_000,
      dockerVersion: "20.10.24",
      compose: null,
    };
    expect(capacityOf(facts)).toEqual({ cpuCores: 2, memoryMb: 4096, diskMb: 50_000 });
    expect(capacityOf({ ...facts, cpuCores: null })).toBeNull();
  });
});
