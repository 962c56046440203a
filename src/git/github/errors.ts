import { AppError } from "../../contracts/index.js";

/** The HTTP status of an Octokit request error, or `undefined` for anything else (network, bug). */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("status" in error)) return undefined;
  const status = (error as { status: unknown }).status;
  return typeof status === "number" ? status : undefined;
}

/**
 * Maps a failed GitHub call to an `AppError` that says who must act: 404 `not_found`; 422
 * `invalid`; a refused token (401/403) or an unreachable/failing GitHub `unavailable` (an operator or
 * a retry). The message names the operation and status only; Octokit redacts the token in `cause`.
 */
export function githubError(error: unknown, what: string): AppError {
  if (error instanceof AppError) return error;
  const status = statusOf(error);
  const opts = { cause: error };
  if (status === 404) return new AppError("not_found", "not_found", `GitHub: ${what}: not found`, opts);
  if (status === 422) return new AppError("invalid", "github_rejected", `GitHub refused to ${what}`, opts);
  if (status === 401 || status === 403) {
    return new AppError("unavailable", "github_unauthorized", `GitHub refused the token to ${what}`, opts);
  }
  if (status === undefined || status >= 500 || status === 429) {
    const suffix = status ? ` (HTTP ${status})` : "";
    return new AppError(
      "unavailable",
      "github_unavailable",
      `GitHub is unavailable to ${what}${suffix}`,
      opts,
    );
  }
  return new AppError("internal", "github_error", `GitHub: ${what} failed (HTTP ${status})`, opts);
}
