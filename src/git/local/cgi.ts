import type { Readable } from "node:stream";

/** A CGI response head larger than this is refused (git http-backend writes a few short lines). */
const MAX_HEAD_BYTES = 64 * 1024;

/** The head of a CGI response: status (from `Status:`, default 200), headers, and body bytes already read. */
export interface CgiHead {
  status: number;
  headers: Record<string, string>;
  rest: Buffer;
}

/** Parses CGI header lines (`Name: value`, CRLF or LF); `Status: 404 Not Found` becomes the status. */
export function parseCgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "status") {
      const code = Number.parseInt(value, 10);
      if (code >= 100 && code <= 599) status = code;
    } else {
      headers[name] = value;
    }
  }
  return { status, headers };
}

/**
 * Reads a CGI program's stdout up to the blank line ending its head and pauses it there, so the
 * caller can stream the rest. Resolves `null` when the output ends (or overflows) before a head.
 */
export function readCgiHead(stdout: Readable): Promise<CgiHead | null> {
  return new Promise<CgiHead | null>((resolve) => {
    let buffered = Buffer.alloc(0);
    const finish = (head: CgiHead | null) => {
      stdout.off("data", onData);
      stdout.off("end", onEnd);
      stdout.off("error", onEnd);
      stdout.pause();
      resolve(head);
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const crlf = buffered.indexOf("\r\n\r\n");
      const lf = buffered.indexOf("\n\n");
      const candidates = [
        crlf >= 0 ? { at: crlf, len: 4 } : null,
        lf >= 0 ? { at: lf, len: 2 } : null,
      ].filter((c) => c !== null);
      const end = candidates.sort((a, b) => a.at - b.at)[0];
      if (end) {
        const parsed = parseCgiHeaders(buffered.subarray(0, end.at).toString("latin1"));
        finish({ ...parsed, rest: buffered.subarray(end.at + end.len) });
      } else if (buffered.length > MAX_HEAD_BYTES) {
        finish(null);
      }
    };
    const onEnd = () => finish(null);
    stdout.on("data", onData);
    stdout.on("end", onEnd);
    stdout.on("error", onEnd);
  });
}
