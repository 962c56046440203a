import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { AppError, type ErrorCode, type ErrorKind } from "../../contracts/index.js";
import type { Store } from "../store.js";

/** Lazily reads the store the suite opened in `beforeAll`. */
export type GetStore = () => Store;

/** A unique lower-case tag so suites sharing one database never collide. */
export function uniq(prefix = "t"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** A random all-digits Telegram id. */
export function telegramId(): string {
  return String(1_000_000 + Math.floor(Math.random() * 1e12));
}

/** A UUID no row has. */
export const MISSING_ID = "00000000-0000-4000-8000-000000000000";

/** Awaits a rejection and checks it is an `AppError` of this kind (and code, when given). */
export async function expectAppError(
  work: Promise<unknown>,
  kind: ErrorKind,
  code?: ErrorCode,
): Promise<AppError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, "expected the call to fail").toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.kind).toBe(kind);
  if (code !== undefined) expect(appError.code).toBe(code);
  return appError;
}

/** ISO timestamp with offset, as every contract carries. */
export const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** A project (and its owner) to hang runs, workers and secrets on. */
export async function makeProject(store: Store, name = "Fixture project") {
  return store.projects.create({ name: `${name} ${uniq()}` });
}
