/**
 * TCP ports something listens on, from the text of `/proc/net/tcp` and `/proc/net/tcp6`: rows of
 * `sl local_address rem_address st ...` where `local_address` is `<hex ip>:<hex port>` and state
 * `0A` is LISTEN. Read over SSH, so it needs nothing installed on the server (no `ss`, no `netstat`).
 */
export function listeningPorts(procNetTcp: string): Set<number> {
  const ports = new Set<number>();
  for (const line of procNetTcp.split("\n")) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (state !== "0A" || !local) continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
    if (Number.isInteger(port) && port > 0) ports.add(port);
  }
  return ports;
}
