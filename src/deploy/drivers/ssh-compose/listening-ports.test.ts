import { describe, expect, it } from "vitest";
import { listeningPorts } from "./listening-ports.js";

describe("listeningPorts", () => {
  it("reads LISTEN rows of /proc/net/tcp and tcp6, and nothing else", () => {
    const text = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 00000000:7530 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1",
      "   1: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1",
      "   2: 0100007F:9C40 0100007F:0016 01 00000000:00000000 00:00000000 00000000     0        0 3 1",
      "  sl  local_address                         remote_address                        st tx_queue",
      "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:0",
      "",
    ].join("\n");
    // 0x7530 = 30000, 0x16 = 22, 0x1F90 = 8080; 0x9C40 is an established connection, not a listener.
    expect([...listeningPorts(text)].sort((a, b) => a - b)).toEqual([22, 8080, 30000]);
    expect(listeningPorts("")).toEqual(new Set());
  });
});
