import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One sample line of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A Prometheus text exposition read back: each family's type (from `# TYPE`) and every sample. */
export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text format (the subset prom-client writes: no timestamps, escaped label values). */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("# TYPE ")) {
      const [, , name = "", type = ""] = line.split(" ");
      types.set(name, type);
      continue;
    }
    if (line.startsWith("#") || line.trim() === "") continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key = "", value = ""] of (match[2] ?? "").matchAll(LABEL)) {
      labels[key] = value.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    samples.push({ name: match[1] ?? "", labels, value: Number(match[3]) });
  }
  return { types, samples };
}

/**
 * The value of the one sample named `name` whose labels include `labels` (others, such as `role`,
 * may be there too); undefined when there is none, and an error when several match.
 */
export function sampleValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const matches = parseExposition(text).samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (matches.length > 1)
    throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matches[0]?.value;
}

/** What `promtool check metrics` says of `text` (empty when it finds nothing wrong). */
export function promtoolCheckMetrics(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "metrics-"));
  const file = join(dir, "metrics.txt");
  try {
    writeFileSync(file, text);
    // promtool reads the exposition on stdin; it prints problems and exits non-zero on any.
    return execFileSync("sh", ["-c", 'promtool check metrics < "$1" 2>&1 || true', "sh", file], {
      encoding: "utf8",
    }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
