import { z } from "zod";

/**
 * Error kinds decide who must act: the caller (`invalid`, `not_found`, `unauthorized`, `forbidden`,
 * `conflict`), an operator or a retry (`unavailable`), or a developer (`internal`).
 */
export const ErrorKind = z.enum([
  "invalid",
  "not_found",
  "unauthorized",
  "forbidden",
  "conflict",
  "unavailable",
  "internal",
]);
export type ErrorKind = z.infer<typeof ErrorKind>;

/** One problem with one input field. `path` is dotted (`limits.maxTurns`), empty for the whole input. */
export const ErrorDetail = z.object({ path: z.string(), message: z.string() });
export type ErrorDetail = z.infer<typeof ErrorDetail>;

/** The wire shape of every error answer (API body, CLI output, tool result). */
export const ErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  details: z.array(ErrorDetail).default([]),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The one error base of the project: a kind, a stable code and an optional cause. No secrets inside. */
export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly details: ErrorDetail[];

  constructor(
    kind: ErrorKind,
    code: string,
    message: string,
    opts: { details?: ErrorDetail[]; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "AppError";
    this.kind = kind;
    this.code = code;
    this.details = opts.details ?? [];
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, details: this.details };
  }

  static notFound(entity: string, id: string): AppError {
    return new AppError("not_found", "not_found", `${entity} ${id} not found`, {
      details: [{ path: "id", message: `no such ${entity}` }],
    });
  }
}

/** Turns zod issues into field paths and reasons. */
export function detailsFromZod(error: z.ZodError, prefix = ""): ErrorDetail[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join("."),
    message: issue.message,
  }));
}

/** Parses `input` with `schema` or throws an `invalid` AppError listing every bad field. */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown, what = "input"): z.infer<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new AppError("invalid", "invalid_input", `invalid ${what}`, {
      details: detailsFromZod(result.error),
    });
  }
  return result.data;
}
