import { z } from "zod";
import type { StopReason } from "./agent.js";

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

/** Codes any module may raise: bad input, a missing entity, an illegal status move, a bug. */
export const CommonErrorCode = z.enum(["invalid_input", "not_found", "illegal_transition", "internal"]);
export type CommonErrorCode = z.infer<typeof CommonErrorCode>;
/** Codes of the settings read from the environment. */
export const ConfigErrorCode = z.enum(["invalid_config"]);
export type ConfigErrorCode = z.infer<typeof ConfigErrorCode>;
/** Codes of the store (database drivers and repositories). */
export const StoreErrorCode = z.enum([
  "already_exists",
  "concurrent_update",
  "data_dir_in_use",
  "database_error",
  "database_unavailable",
  "error_required",
  "result_required",
  "store_shape_mismatch",
]);
export type StoreErrorCode = z.infer<typeof StoreErrorCode>;
/** Codes of the message bus. */
export const BusErrorCode = z.enum([
  "bus_bad_consume_options",
  "bus_bad_reply",
  "bus_closed",
  "bus_request_timeout",
  "bus_unreachable",
]);
export type BusErrorCode = z.infer<typeof BusErrorCode>;
/** Codes of authentication and API tokens. */
export const AuthErrorCode = z.enum(["last_admin_token", "csrf_failed", "worker_sign_in"]);
export type AuthErrorCode = z.infer<typeof AuthErrorCode>;
/** Codes of the HTTP API and the process that serves it. */
export const ApiErrorCode = z.enum([
  "forbidden",
  "unauthorized",
  "route_not_found",
  "port_in_use",
  "servers_unavailable",
]);
export type ApiErrorCode = z.infer<typeof ApiErrorCode>;
/** Codes of the `orchestrator` command line. */
export const CliErrorCode = z.enum(["api_unreachable", "api_not_json", "no_token"]);
export type CliErrorCode = z.infer<typeof CliErrorCode>;
/** Codes of the tool registry and its tools. */
export const ToolErrorCode = z.enum([
  "bad_tool_output",
  "no_engineering_run",
  "not_a_worker",
  "nothing_to_deploy",
  "secrets_unavailable",
  "tool_forbidden",
  "unknown_tool",
]);
export type ToolErrorCode = z.infer<typeof ToolErrorCode>;
/** Codes of the secrets vault and bot token checks. */
export const SecretsErrorCode = z.enum([
  "bot_in_use",
  "bot_token_rejected",
  "bot_token_unchecked",
  "invalid_bot_token",
  "pool_bot_taken",
  "pool_empty",
  "invalid_vault_key",
  "secret_empty",
  "vault_decrypt_failed",
  "vault_format",
  "vault_key_mismatch",
  "vault_key_missing",
  "vault_processes_running",
  "vault_rotation_other_key",
  "vault_rotation_under_way",
  "vault_same_key",
]);
export type SecretsErrorCode = z.infer<typeof SecretsErrorCode>;
/** Codes of git and the forges. */
export const GitErrorCode = z.enum([
  "git_failed",
  "git_unavailable",
  "github_error",
  "github_rejected",
  "github_unauthorized",
  "github_unavailable",
]);
export type GitErrorCode = z.infer<typeof GitErrorCode>;
/** Codes of project templates and their rendering. */
export const TemplateErrorCode = z.enum([
  "render_target_not_empty",
  "template_bad_file",
  "template_manifest_invalid",
  "template_manifest_invalid_json",
  "template_manifest_missing",
  "template_name_mismatch",
  "template_not_found",
  "template_ref_not_pinned",
  "template_version_not_found",
  "templates_missing",
]);
export type TemplateErrorCode = z.infer<typeof TemplateErrorCode>;
/** Codes of the engine: runs, their graphs and stages. */
export const EngineErrorCode = z.enum([
  "acceptance_not_declared",
  "acceptance_too_large",
  "already_answered",
  "already_built",
  "bad_playbook",
  "branch_missing",
  "engine_stopping",
  "gc_incomplete",
  "manifest_invalid",
  "manifest_missing",
  "no_question",
  "not_blocked",
  "not_built_yet",
  "preparer_without_spec",
  "repository_empty",
  "repository_not_empty",
  "run_ended",
  "lease_lost",
  "run_in_progress",
  "run_not_cancellable",
  "run_superseded",
  "sandbox_command_failed",
  "secrets_changed",
  "too_many_answers",
]);
export type EngineErrorCode = z.infer<typeof EngineErrorCode>;
/** Codes of workers: runtimes, agent backends, sandboxes and workers nodes. */
export const WorkerErrorCode = z.enum([
  "backend_unavailable",
  "bad_script",
  "bad_usage",
  "bubblewrap_unavailable",
  "ca_bundle_unreadable",
  "cgroup_unavailable",
  "claude_binary_missing",
  "docker_conflict",
  "docker_error",
  "docker_unreachable",
  "invalid_docker_host",
  "invalid_exec",
  "invalid_worker_id",
  "no_agent",
  "no_workers_node",
  "node_not_found",
  "npm_not_found",
  "run_budget_exhausted",
  "runtime_unavailable",
  "sandbox_exists",
  "sandbox_failed",
  "sandbox_not_found",
  "sandbox_paused",
  "sandbox_unavailable",
  "sandbox_write_failed",
  "worker_busy",
  "worker_ended",
  "worker_gone",
  "worker_image_build_failed",
  "worker_image_build_timeout",
  "worker_image_missing",
  "worker_node_lost",
]);
export type WorkerErrorCode = z.infer<typeof WorkerErrorCode>;
/** Codes of the deploy: drivers, releases, ports, servers and SSH. */
export const DeployErrorCode = z.enum([
  "build_failed",
  "commit_not_found",
  "compose_missing",
  "deploy_record_corrupt",
  "deploy_start_failed",
  "driver_closed",
  "env_value_unrepresentable",
  "handover_timeout",
  "host_key_changed",
  "invalid_argument",
  "leftover_process",
  "no_free_port",
  "no_server",
  "port_not_allocated",
  "port_out_of_range",
  "port_probe_failed",
  "release_contended",
  "release_marker_corrupt",
  "release_not_found",
  "release_record_corrupt",
  "release_taken_over",
  "release_unpack_failed",
  "remote_command_failed",
  "server_has_no_key",
  "server_in_use",
  "server_not_ready",
  "server_removed",
  "server_reserved",
  "source_unavailable",
  "ssh_auth_failed",
  "ssh_command_timeout",
  "ssh_config_invalid",
  "ssh_connection_lost",
  "ssh_credentials_corrupt",
  "ssh_read_failed",
  "ssh_sftp_unavailable",
  "ssh_timeout",
  "ssh_unreachable",
  "ssh_upload_failed",
  "start_failed",
]);
export type DeployErrorCode = z.infer<typeof DeployErrorCode>;

/** Codes of the in-process model providers. */
export const LlmErrorCode = z.enum([
  "model_bad_answer",
  "model_rejected",
  "model_timeout",
  "model_unauthorized",
  "model_unavailable",
]);
export type LlmErrorCode = z.infer<typeof LlmErrorCode>;

/** Codes of the Product Owner and the chat channels. */
export const ChatErrorCode = z.enum(["po_budget_exhausted", "chat_unavailable"]);
export type ChatErrorCode = z.infer<typeof ChatErrorCode>;

/** Every module's codes, by module: the closed set an AppError's `code` comes from. */
export const ERROR_CODES_BY_MODULE = {
  common: CommonErrorCode.options,
  config: ConfigErrorCode.options,
  store: StoreErrorCode.options,
  bus: BusErrorCode.options,
  auth: AuthErrorCode.options,
  api: ApiErrorCode.options,
  cli: CliErrorCode.options,
  tools: ToolErrorCode.options,
  secrets: SecretsErrorCode.options,
  git: GitErrorCode.options,
  templates: TemplateErrorCode.options,
  engine: EngineErrorCode.options,
  workers: WorkerErrorCode.options,
  deploy: DeployErrorCode.options,
  llm: LlmErrorCode.options,
  chat: ChatErrorCode.options,
} as const;

/** The stable code of an AppError: one of the modules' codes, so a typo fails the typecheck. */
export const ErrorCode = z.enum(Object.values(ERROR_CODES_BY_MODULE).flat() as [ErrorCode, ...ErrorCode[]]);
export type ErrorCode =
  | CommonErrorCode
  | ConfigErrorCode
  | StoreErrorCode
  | BusErrorCode
  | AuthErrorCode
  | ApiErrorCode
  | CliErrorCode
  | ToolErrorCode
  | SecretsErrorCode
  | GitErrorCode
  | TemplateErrorCode
  | EngineErrorCode
  | WorkerErrorCode
  | DeployErrorCode
  | LlmErrorCode
  | ChatErrorCode;

/** Whether `code` (e.g. one received from another process) is one of ours. */
export function isErrorCode(code: string): code is ErrorCode {
  return (ErrorCode.options as readonly string[]).includes(code);
}

/**
 * How a run can end besides an error one of the modules raised: the stages' own verdicts
 * (`merged`, `healthy`, `health_gate_failed`, ...) and the runner's (`stage_error` for a throw that
 * is not an AppError, `no_outcome` for a graph that ended without a verdict).
 */
export const RunVerdictCode = z.enum([
  "acceptance_missing",
  "acceptance_questions_exhausted",
  "budget_exhausted",
  "default_branch_moved",
  "health_gate_failed",
  "healthy",
  "merged",
  "missing_secrets",
  "no_outcome",
  "nothing_to_roll_back_to",
  "spec_missing",
  "stage_error",
  "template_not_chosen",
  "tests_green",
  "tests_still_failing",
  "torn_down",
]);
export type RunVerdictCode = z.infer<typeof RunVerdictCode>;
/**
 * How an agent's turn ended when it did not end in a `complete` report: it asked a question, it
 * reported failure, or it stopped for a reason of its own (`developer_max_turns`).
 */
export type AgentTurnCode = `${"architect" | "developer"}_${"question" | "failed" | StopReason}`;
/** The code a finished run carries: a verdict, an agent's turn, or the error that ended it. */
export type RunOutcomeCode = RunVerdictCode | AgentTurnCode | ErrorCode;

/**
 * Why the model gateway refused a call, in the providers' own error vocabulary (Anthropic's
 * `error.type`), so an agent CLI reacts to it as it would to the provider. Not an AppError code.
 */
export const GatewayRefusalType = z.enum([
  "invalid_request_error",
  "permission_error",
  "not_found_error",
  "api_error",
  "budget_exhausted_error",
]);
export type GatewayRefusalType = z.infer<typeof GatewayRefusalType>;

/** One problem with one input field. `path` is dotted (`limits.maxTurns`), empty for the whole input. */
export const ErrorDetail = z.object({ path: z.string(), message: z.string() });
export type ErrorDetail = z.infer<typeof ErrorDetail>;

/**
 * The wire shape of every error answer (API body, CLI output, tool result). Its `code` is an open
 * string: a receiver may also meet codes that are not ours (an HTTP status, the web framework's).
 */
export const ErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  details: z.array(ErrorDetail).default([]),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The one error base of the project: a kind, a stable code and an optional cause. No secrets inside. */
export class AppError extends Error {
  readonly kind: ErrorKind;
  /** One of the modules' codes; only an error re-raised by `fromBody` keeps a sender's code as sent. */
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];

  constructor(
    kind: ErrorKind,
    code: ErrorCode,
    message: string,
    opts: { details?: ErrorDetail[]; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "AppError";
    this.kind = kind;
    this.code = code;
    this.details = opts.details ?? [];
  }

  /** The wire shape of this error, as the API, the CLI and tool results answer it. */
  toBody(): ErrorBody {
    return { code: this.code, message: this.message, details: this.details };
  }

  /**
   * Raises again an error another process answered with. Its code is kept as sent: ours were
   * checked where they were raised, and a foreign one (an HTTP status, the web framework's) names
   * the failure better than any code of ours would.
   */
  static fromBody(
    kind: ErrorKind,
    body: ErrorBody,
    opts: { message?: string; cause?: unknown } = {},
  ): AppError {
    return new AppError(kind, body.code as ErrorCode, opts.message ?? body.message, {
      details: body.details,
      cause: opts.cause,
    });
  }

  /** The usual `not_found` error for an entity looked up by id. */
  static notFound(entity: string, id: string): AppError {
    return new AppError("not_found", "not_found", `${entity} ${id} not found`, {
      details: [{ path: "id", message: `no such ${entity}` }],
    });
  }
}

/**
 * For `.catch`: a record removed meanwhile (`not_found`) becomes null, so a reaction to an old
 * event can end quietly; any other error is thrown again.
 */
export function nullIfNotFound(error: unknown): null {
  if (error instanceof AppError && error.kind === "not_found") return null;
  throw error;
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
