import { AppError, type ErrorBody } from "../contracts/index.js";

/** Every CLI command prints one JSON document: this on success... */
export function printOk(data: unknown): void {
  process.stdout.write(`${JSON.stringify({ ok: true, data }, null, 2)}\n`);
}

/** ...or this on failure, with exit code 1. */
export function printError(error: ErrorBody): void {
  process.stdout.write(`${JSON.stringify({ ok: false, error }, null, 2)}\n`);
  process.exitCode = 1;
}

/** Any thrown value as an error body; unexpected errors keep only their message. */
export function errorBodyOf(error: unknown): ErrorBody {
  if (error instanceof AppError) return error.toBody();
  return { code: "internal", message: error instanceof Error ? error.message : String(error), details: [] };
}
