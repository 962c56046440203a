/**
 * README.md's examples run as written: every `orchestrator …` command it shows (in code blocks and
 * inline, `npm start -- …` being `up …`) must name a command of the real CLI (built from the tool
 * registry), with flags that command has, its required flags present, and a secret fed on stdin
 * where the command reads one there. Every `npm run <script>` must be a script of package.json.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { cliFlags, commandWords, createToolRegistry } from "../tools/index.js";
import { buildProgram } from "./main.js";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const SCRIPTS = Object.keys(
  (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { scripts: object })
    .scripts,
);

const program = buildProgram();
const tools = createToolRegistry().list();

/** One example: the words after `orchestrator`, and whether something is fed to its stdin. */
interface Example {
  text: string;
  args: string[];
  hasStdin: boolean;
}

/** Splits a command line into words, keeping quoted strings whole (quotes removed). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3] ?? "");
  return words;
}

/** The `orchestrator` invocation in one line of shell, or null when the line runs none. */
function exampleIn(line: string): Example | null {
  const code = line.replace(/\s#.*$/, "");
  const npmStart = /(?:^|\s)npm start(?:\s+--(?=\s|$))?(.*)$/.exec(code);
  const cli = /(?:^|[\s|(])(?:npx )?orchestrator\s+(.*)$/.exec(code);
  const match = cli ?? npmStart;
  if (!match) return null;
  const before = code.slice(0, match.index);
  let rest = match[1] ?? "";
  // `< file` feeds stdin; `<uuid>` is a placeholder.
  const redirect = /\s<(?:\s|[^\s>]+(?:\s|$))/.exec(rest);
  if (redirect) rest = rest.slice(0, redirect.index);
  rest = rest.split(/\s(?:\||&&|;)\s/)[0] ?? "";
  // Output redirections, to a file or another descriptor (`>> log`, `2>&1`), are not arguments.
  rest = rest.replace(/\s\d*>>?\s*&?\S+/g, "");
  const args = shellWords(rest).map((w) => w.replace(/^\[|\]$/g, ""));
  return {
    text: line.trim(),
    args: cli ? args : ["up", ...args],
    hasStdin: redirect !== null || /\|\s*$/.test(before) || /\|\s*(npx )?$/.test(before),
  };
}

/** Every command example of a markdown text: lines of code blocks, and inline code spans. */
function examplesIn(markdown: string): Example[] {
  const examples: Example[] = [];
  const parts = markdown.split(/^```.*$/m);
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      for (const line of part.split("\n")) {
        const example = exampleIn(line);
        if (example) examples.push(example);
      }
      return;
    }
    for (const m of part.matchAll(/`((?:npx )?orchestrator [a-z][^`]*)`/g)) {
      const example = exampleIn(m[1] ?? "");
      if (example) examples.push(example);
    }
  });
  return examples;
}

const isWord = (w: string) => /^[a-z][a-z0-9-]*$/.test(w);
const isPlaceholder = (w: string) => w === "…" || w === "...";

/** What is wrong with an example for the real CLI; empty when it would run as written. */
function problemsOf(example: Example, root: Command = program): string[] {
  const { args, text } = example;
  const problems: string[] = [];
  let command = root;
  const words: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const word = args[i] as string;
    if (!isWord(word)) break;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    command = sub;
    words.push(word);
  }
  if (command === root || command.commands.length > 0) {
    return [`${text}: "orchestrator ${args.slice(0, i + 1).join(" ")}" is not a command`];
  }
  const given = new Set<string>();
  for (; i < args.length; i++) {
    const arg = args[i] as string;
    if (isPlaceholder(arg)) continue;
    if (!arg.startsWith("-")) {
      problems.push(`${text}: unexpected argument "${arg}" for "orchestrator ${words.join(" ")}"`);
      continue;
    }
    const [flag = "", inline] = arg.split("=", 2);
    if (flag === "--help" || flag === "-h") continue;
    const option = command.options.find((o) => o.long === flag || o.short === flag);
    if (!option) {
      problems.push(`${text}: "orchestrator ${words.join(" ")}" has no flag ${flag}`);
      continue;
    }
    given.add(option.long ?? flag);
    if ((option.required || option.optional) && inline === undefined) i++;
  }
  for (const option of command.options) {
    if (option.mandatory && !given.has(option.long ?? "")) {
      problems.push(`${text}: "orchestrator ${words.join(" ")}" needs ${option.long}`);
    }
  }
  // The words `addToolCommands` gives a tool: its noun, then the rest joined by "-".
  const cliWords = (t: (typeof tools)[number]) => {
    const [noun, ...rest] = commandWords(t);
    return rest.length === 0 ? `${noun}` : `${noun} ${rest.join("-")}`;
  };
  const tool = tools.find((t) => cliWords(t) === words.join(" "));
  // An example with an ellipsis ("orchestrator report …") shows the command, not a full call.
  if (tool && !args.some(isPlaceholder)) {
    for (const flag of cliFlags(tool).filter((f) => f.required && !given.has(f.flag))) {
      problems.push(`${text}: "orchestrator ${words.join(" ")}" needs ${flag.flag}`);
    }
    if (tool.secretField && !example.hasStdin) {
      problems.push(`${text}: "orchestrator ${words.join(" ")}" reads its ${tool.secretField} from stdin`);
    }
  }
  return problems;
}

describe("README.md examples", () => {
  const examples = examplesIn(README);

  it("finds the commands the README shows", () => {
    const shown = new Set(examples.map((e) => e.args.filter(isWord).slice(0, 2).join(" ")));
    for (const command of ["up", "project create", "secret set", "deploy status", "server register"]) {
      expect(shown, command).toContain(command);
    }
    expect(examples.length).toBeGreaterThan(20);
  });

  it("name only commands and flags of the real CLI, with what each needs", () => {
    expect(examples.flatMap((e) => problemsOf(e))).toEqual([]);
  });

  it("run only npm scripts that exist", () => {
    const runs = [...README.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1] as string);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.filter((script) => !SCRIPTS.includes(script))).toEqual([]);
  });
});

describe("the README check itself", () => {
  const check = (line: string) => {
    const example = exampleIn(line);
    if (!example) throw new Error(`no command in ${line}`);
    return problemsOf(example).join("\n");
  };

  it("accepts commands the CLI runs", () => {
    expect(check("npx orchestrator deploy start --project-id <uuid> [--commit <sha>]   # default")).toBe("");
    expect(check("npx orchestrator server register --handle a --host h < ~/.ssh/key")).toBe("");
    expect(check("printf '%s' \"$TOKEN\" | npx orchestrator secret set --project-id <uuid> --key K")).toBe(
      "",
    );
    expect(check("npm start -- --demo")).toBe("");
    expect(check('npx orchestrator engineering start --project-id <uuid> --brief "A web service"')).toBe("");
  });

  it("refuses unknown commands and flags, missing required flags and a secret not on stdin", () => {
    expect(check("npx orchestrator deploy stop --project-id <uuid>")).toMatch(/is not a command/);
    expect(check("npx orchestrator admin token")).toMatch(/is not a command/);
    expect(check("npx orchestrator project teardown --project-id <uuid> --force")).toMatch(/no flag --force/);
    expect(check('npx orchestrator engineering start --brief "x"')).toMatch(/needs --project-id/);
    expect(check("npx orchestrator admin token revoke")).toMatch(/needs --id/);
    expect(check('npx orchestrator secret set --project-id <uuid> --key K --value "$T"')).toMatch(
      /no flag --value[\s\S]*reads its value from stdin/,
    );
    expect(check("npm start -- --verbose")).toMatch(/no flag --verbose/);
  });
});
