import { AppError } from "../../contracts/index.js";

/** Socket-level failures that mean the engine cannot be reached (down, wrong host, no permission). */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOENT",
  "EACCES",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

interface DockerModemError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  message?: string;
}

/** The engine's own message for a failed call, without dockerode's "(HTTP code …)" prefix. */
function engineMessage(error: DockerModemError): string {
  const fromJson = error.json && typeof error.json === "object" ? error.json.message : undefined;
  return String(fromJson ?? error.message ?? error).trim();
}

/** True when the engine said the container is paused (exec and friends are refused then). */
export function isPausedError(error: unknown): boolean {
  return /is paused/i.test(engineMessage(error as DockerModemError));
}

/** True for a 404 from the engine: the container (or exec) is gone. */
export function isNotFound(error: unknown): boolean {
  return (error as DockerModemError)?.statusCode === 404;
}

/**
 * Maps a dockerode failure to an `AppError` so callers switch on kind, not on HTTP codes:
 * engine unreachable -> `unavailable/docker_unreachable`, 404 -> `not_found/sandbox_not_found`,
 * paused -> `conflict/sandbox_paused`, other 409 -> `conflict/docker_conflict`, 5xx ->
 * `unavailable/docker_error`, anything else -> `internal/docker_error`. `what` names the action.
 */
export function dockerError(error: unknown, what: string): AppError {
  if (error instanceof AppError) return error;
  const e = (error ?? {}) as DockerModemError;
  const message = `docker ${what} failed: ${engineMessage(e)}`;
  if (e.code && UNREACHABLE_CODES.has(e.code)) {
    return new AppError(
      "unavailable",
      "docker_unreachable",
      `docker engine unreachable (${what}: ${e.code})`,
      {
        cause: error,
      },
    );
  }
  if (e.statusCode === 404) return new AppError("not_found", "sandbox_not_found", message, { cause: error });
  if (isPausedError(error)) return new AppError("conflict", "sandbox_paused", message, { cause: error });
  if (e.statusCode === 409) return new AppError("conflict", "docker_conflict", message, { cause: error });
  if (e.statusCode !== undefined && e.statusCode >= 500) {
    return new AppError("unavailable", "docker_error", message, { cause: error });
  }
  return new AppError("internal", "docker_error", message, { cause: error });
}
