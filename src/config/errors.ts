import { AppError } from "../contracts/index.js";

/** One variable that is missing or malformed, and why (never its value). */
export type ConfigProblem = { variable: string; message: string };

/**
 * A configuration error names every variable that is missing or malformed, and why. It is an
 * `invalid` AppError (`invalid_config`, one detail per variable), so the CLI and the API map it
 * like any other user mistake.
 */
export class ConfigError extends AppError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(
      "invalid",
      "invalid_config",
      `invalid configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join("; ")}`,
      { details: problems.map((p) => ({ path: p.variable, message: p.message })) },
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}
