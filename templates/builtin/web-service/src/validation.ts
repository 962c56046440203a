import type {
  FastifyPluginAsync,
  FastifySchemaCompiler,
  FastifyTypeProvider,
  RawServerDefault,
} from "fastify";
import type { z } from "zod";

/**
 * Lets route schemas be zod schemas: `{ schema: { params, querystring, body } }` types
 * `request.params`, `request.query` and `request.body` as the schemas' outputs.
 */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this["schema"] extends z.ZodType ? z.output<this["schema"]> : unknown;
  serializer: this["schema"] extends z.ZodType ? z.input<this["schema"]> : unknown;
}

/** A route plugin (one file of `src/routes/`), typed for zod schemas; `Options` are what it is registered with. */
export type RoutePlugin<Options extends Record<string, unknown> = Record<string, never>> = FastifyPluginAsync<
  Options,
  RawServerDefault,
  ZodTypeProvider
>;

/** One rejected field: where (`body.text`, `params.id`, `querystring.name`) and why. */
export interface FieldIssue {
  field: string;
  reason: string;
}

/** A request whose params, query, body or headers fail their schema: answered 400 with `details`. */
export class RequestValidationError extends Error {
  readonly statusCode = 400;
  constructor(readonly details: FieldIssue[]) {
    super(`invalid request: ${details.map((d) => `${d.field}: ${d.reason}`).join("; ")}`);
    this.name = "RequestValidationError";
  }
}

/** Fastify's validator compiler for zod schemas: the parsed value replaces the raw one (coercions apply). */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  return (data: unknown) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    const part = httpPart ?? "request";
    return {
      error: new RequestValidationError(
        result.error.issues.map((issue) => ({
          field: [part, ...issue.path.map(String)].join("."),
          reason: issue.message,
        })),
      ),
    };
  };
};
