/**
 * Known secret values to scrub from any text leaving the process (log lines, events, errors).
 * The secrets module adds each value it decrypts or stores; values shorter than 6 characters are
 * ignored because scrubbing them would mangle ordinary text.
 */
export class SecretRedactor {
  static readonly MASK = "[REDACTED]";
  private readonly values = new Set<string>();
  private pattern: RegExp | null = null;

  add(value: string): void {
    if (value.length < 6 || this.values.has(value)) return;
    this.values.add(value);
    this.pattern = null;
  }

  get size(): number {
    return this.values.size;
  }

  redact(text: string): string {
    if (this.values.size === 0) return text;
    if (this.pattern === null) {
      // Longest first so a secret containing another is masked whole.
      const sorted = [...this.values].sort((a, b) => b.length - a.length);
      this.pattern = new RegExp(sorted.map(escapeRegExp).join("|"), "g");
    }
    return text.replace(this.pattern, SecretRedactor.MASK);
  }
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
