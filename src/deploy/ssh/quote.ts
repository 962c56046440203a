import { AppError } from "../../contracts/index.js";

/** Characters that never need quoting in a POSIX shell word. */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
/** Environment variable names a remote `env` accepts. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * One argument as a single POSIX shell word: left as is when it holds only safe characters, else
 * wrapped in single quotes with each `'` written as `'\''`. Inside single quotes nothing is special,
 * so the remote shell passes exactly `arg` to the program. A NUL cannot be passed and is refused.
 */
export function shellQuote(arg: string): string {
  if (arg.includes("\0")) {
    throw new AppError("invalid", "invalid_argument", "a command argument cannot contain a NUL byte");
  }
  if (arg !== "" && PLAIN_WORD.test(arg)) return arg;
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * The command line for an SSH `exec` request (which the server hands to the user's shell): every
 * argument quoted, prefixed by `env NAME=value ...` when `env` is given. Values go on the command
 * line, so `env` is for settings (e.g. `DOCKER_HOST`), never for secrets: those travel as files.
 */
export function shellCommand(argv: readonly string[], env: Readonly<Record<string, string>> = {}): string {
  const program = argv[0];
  // A first word with `=` would be read as an assignment (by the shell or by `env`), not a program.
  if (program === undefined || program === "" || program.includes("=")) {
    throw new AppError("invalid", "invalid_argument", "a command needs a program", {
      details: [{ path: "argv.0", message: "a program name, without '='" }],
    });
  }
  const assignments = Object.entries(env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) {
      throw new AppError(
        "invalid",
        "invalid_argument",
        `bad environment variable name ${JSON.stringify(name)}`,
        {
          details: [{ path: `env.${name}`, message: "letters, digits and _, not starting with a digit" }],
        },
      );
    }
    return shellQuote(`${name}=${value}`);
  });
  const words = argv.map(shellQuote);
  return assignments.length > 0 ? ["env", ...assignments, ...words].join(" ") : words.join(" ");
}
