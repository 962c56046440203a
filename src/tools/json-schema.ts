import { z } from "zod";
import type { AnyToolDef } from "./tool.js";

/** JSON Schema of what a caller may send (defaults make fields optional). */
export function inputJsonSchema(tool: AnyToolDef): Record<string, unknown> {
  const schema = z.toJSONSchema(tool.input, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  delete schema.$schema;
  return schema;
}

/** The JSON types a property accepts, looking through `anyOf` (nullable) wrappers. */
export function propertyTypes(prop: Record<string, unknown>): string[] {
  if (typeof prop.type === "string") return [prop.type];
  if (Array.isArray(prop.type)) return prop.type as string[];
  if (Array.isArray(prop.enum))
    return [...new Set((prop.enum as unknown[]).map((v) => (v === null ? "null" : typeof v)))];
  const variants = (prop.anyOf ?? prop.oneOf) as Record<string, unknown>[] | undefined;
  if (variants) return [...new Set(variants.flatMap(propertyTypes))];
  return ["string"];
}
