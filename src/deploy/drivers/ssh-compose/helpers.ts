/** Output kept from a remote command for an error or a log line. */
const OUTPUT_TAIL_CHARS = 4_000;

/** The last part of a command's output, trimmed. */
export function tail(text: string): string {
  return text.trim().slice(-OUTPUT_TAIL_CHARS);
}

/** Removes every value of `env` (3+ characters) from `text`: command output must not carry secrets. */
export function scrub(text: string, env: Readonly<Record<string, string>>): string {
  let out = text;
  for (const value of Object.values(env)) if (value.length >= 3) out = out.replaceAll(value, "[redacted]");
  return out;
}

/** `docker logs --timestamps` lines of both streams, in time order, without the timestamps. */
export function mergeTimestamped(stdout: string, stderr: string, lines: number): string[] {
  const stamped = [...stdout.split("\n"), ...stderr.split("\n")]
    .filter((line) => line.length > 0)
    .map((line) => {
      const space = line.indexOf(" ");
      return space > 0 ? { at: line.slice(0, space), text: line.slice(space + 1) } : { at: "", text: line };
    });
  stamped.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return stamped.slice(-lines).map((l) => l.text);
}
