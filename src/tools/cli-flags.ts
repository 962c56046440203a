import { AppError } from "../contracts/index.js";
import { inputJsonSchema, propertyTypes } from "./json-schema.js";
import type { AnyToolDef } from "./tool.js";

/** One command-line flag derived from one top-level input field. */
export interface CliFlag {
  field: string;
  flag: string;
  types: string[];
  required: boolean;
  description: string;
  isBoolean: boolean;
}

/** `ownerId` -> `--owner-id`. */
export function flagName(field: string): string {
  return `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** `project.create` -> `["project", "create"]`: the CLI words for a tool. */
export function commandWords(tool: AnyToolDef): string[] {
  return tool.name.split(".").map((w) => w.replace(/_/g, "-"));
}

export function cliFlags(tool: AnyToolDef): CliFlag[] {
  const schema = inputJsonSchema(tool);
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(props)
    .filter(([field]) => field !== tool.secretField)
    .map(([field, prop]) => {
      const types = propertyTypes(prop);
      return {
        field,
        flag: flagName(field),
        types,
        required: required.has(field),
        description: typeof prop.description === "string" ? prop.description : "",
        isBoolean: types.length === 1 && types[0] === "boolean",
      };
    });
}

/**
 * Turns flag strings into a tool input: numbers for numeric fields, JSON for objects and arrays,
 * `null` for nullable fields. The tool's schema then validates the result, so mistakes are
 * reported with the field's path.
 */
export function inputFromFlags(
  tool: AnyToolDef,
  values: Record<string, string | boolean | undefined>,
): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const flag of cliFlags(tool)) {
    const raw = values[flag.field];
    if (raw === undefined) continue;
    if (typeof raw === "boolean") {
      input[flag.field] = raw;
      continue;
    }
    if (raw === "null" && flag.types.includes("null")) input[flag.field] = null;
    else if (flag.types.some((t) => t === "number" || t === "integer") && !flag.types.includes("string")) {
      input[flag.field] = raw.trim() === "" ? raw : Number(raw);
      if (Number.isNaN(input[flag.field])) input[flag.field] = raw;
    } else if (flag.types.some((t) => t === "object" || t === "array")) {
      try {
        input[flag.field] = JSON.parse(raw);
      } catch (cause) {
        throw new AppError("invalid", "invalid_input", `invalid input of ${tool.name}`, {
          details: [{ path: flag.field, message: "expected JSON" }],
          cause,
        });
      }
    } else input[flag.field] = raw;
  }
  return input;
}
