/**
 * The last `capacity` lines of a process's output, kept in memory so `logs` answers without reading
 * files. Chunks arrive split anywhere; each stream's unfinished line waits for its newline, so the
 * two streams of one process never interleave inside a line.
 */
export class LineRing {
  private readonly lines: string[] = [];
  private readonly pending = new Map<string, string>();

  constructor(private readonly capacity: number) {}

  /** Adds a chunk of `stream`'s output. */
  write(stream: string, chunk: string): void {
    const parts = ((this.pending.get(stream) ?? "") + chunk).split("\n");
    this.pending.set(stream, parts.pop() ?? "");
    for (const line of parts) this.push(line);
  }

  /** Ends `stream`: its unfinished line, if any, becomes a line. */
  flush(stream: string): void {
    const rest = this.pending.get(stream);
    this.pending.delete(stream);
    if (rest) this.push(rest);
  }

  /** Adds one whole line (e.g. a note of the supervisor's). */
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  /** The last `count` complete lines, oldest first. */
  tail(count: number): string[] {
    return count <= 0 ? [] : this.lines.slice(-count);
  }
}
