import { Command, CommanderError } from "commander";
import { z } from "zod";
import { loadConfig, type Mode, packageVersion } from "../config/index.js";
import {
  AgentRole,
  ApiTokenCreate,
  ApiTokenKind,
  AppError,
  Id,
  ProcessRole,
  parseOrThrow,
  ToolGroup,
} from "../contracts/index.js";
import { createMcpServer, createToolRegistry } from "../tools/index.js";
import { ApiClient, clientSettings } from "./api-client.js";
import { errorBodyOf, printError, printOk } from "./output.js";
import { addRotateKeyCommand } from "./rotate-key-command.js";
import { addToolCommands } from "./tool-commands.js";
import { addWorkerImageCommand } from "./worker-image-command.js";

/*
 * The orchestrator itself, the store, the auth and the demo are loaded by the commands that use
 * them: a tool command (what agents run in their sandboxes, many times a turn) only talks to the
 * API, and starts in a fraction of the time without them.
 */

const ROLES = ProcessRole.options;

/** `--roles api,chat`: known role names, each once; an unknown one is named with the valid ones. */
function parseRoles(text: string): ProcessRole[] {
  const names = text
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  const valid = ROLES.join(", ");
  const unknown = names.filter((name) => !ProcessRole.safeParse(name).success);
  if (names.length === 0 || unknown.length > 0) {
    const message =
      unknown.length > 0
        ? `unknown role${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `"${n}"`).join(", ")}: valid roles are ${valid}`
        : `no role given: valid roles are ${valid}`;
    throw new AppError("invalid", "invalid_input", `invalid --roles: ${message}`, {
      details: [{ path: "roles", message }],
    });
  }
  return [...new Set(names.map((name) => ProcessRole.parse(name)))];
}

/** Runs a long-lived orchestrator until SIGINT/SIGTERM, then stops it within a deadline. */
async function runUntilSignal(mode: Mode, roles: readonly ProcessRole[], demo = false): Promise<void> {
  const { startDemo, startOrchestrator } = await import("../app/index.js");
  const config = loadConfig(process.env, mode, roles);
  const orchestrator = await startOrchestrator(config, {
    roles,
    demo,
    announce: (line) => process.stderr.write(`${line}\n`),
  });
  if (orchestrator.url)
    process.stderr.write(
      `Orchestrator ${mode === "embedded" ? "(embedded)" : "(server)"} listening on ${orchestrator.url}\n`,
    );
  if (demo) for (const line of await startDemo(orchestrator)) process.stderr.write(`${line}\n`);
  const shutdown = (signal: string) => {
    orchestrator.logger.info({ signal }, "signal received");
    const hardExit = setTimeout(() => process.exit(1), 15_000);
    hardExit.unref();
    orchestrator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        orchestrator.logger.error({ err: error }, "stop failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

/**
 * Opens the store the way `up`/`serve` would (DATABASE_URL, else the embedded data directory), with
 * a redactor knowing the config's secrets, so what these commands write is masked like the rest.
 */
async function openConfiguredStore() {
  const [{ redactorFor }, { openStore }] = await Promise.all([
    import("../app/index.js"),
    import("../store/index.js"),
  ]);
  const config = loadConfig(process.env, process.env.DATABASE_URL ? "server" : "embedded");
  return openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    redactor: redactorFor(config),
  });
}

/** The recovery command's flags, as the `ApiTokenCreate` every door checks (admin by default here). */
const TokenCreateOptions = z
  .object({
    name: z.string().trim().min(1).max(100).default("cli"),
    kind: ApiTokenKind.default("admin"),
    projectId: Id.optional(),
    role: AgentRole.optional(),
    userId: Id.optional(),
    groups: z
      .string()
      .optional()
      .transform((s) => (s ? s.split(",").map((g) => g.trim()) : []))
      .pipe(z.array(ToolGroup)),
  })
  .transform((o) => ({
    ...o,
    projectId: o.projectId ?? null,
    role: o.role ?? null,
    userId: o.userId ?? null,
  }));

export function buildProgram(): Command {
  const program = new Command("orchestrator")
    .description("Codegen Orchestrator: from a chat message to a deployed, tested project.")
    .version(packageVersion())
    // The program's own options (--version) only before a command: a tool's `--version` is the tool's.
    .enablePositionalOptions();

  program
    .command("up")
    .description("Start everything in one process: embedded database, in-process bus, API on one port.")
    .option(
      "--demo",
      "a scripted Product Owner and scripted agents (no model keys): open the web chat it prints",
    )
    .action((options: { demo?: boolean }) => runUntilSignal("embedded", ROLES, options.demo === true));

  program
    .command("serve")
    .description("Start the given roles against PostgreSQL (DATABASE_URL) and Redis (REDIS_URL).")
    .option("--roles <roles>", `comma-separated roles: ${ROLES.join(", ")}`, ROLES.join(","))
    .action(async (options: { roles: string }) => {
      await runUntilSignal("server", parseRoles(options.roles));
    });

  program
    .command("migrate")
    .description("Apply database migrations (DATABASE_URL, or the embedded database) and exit.")
    .action(async () => {
      const store = await openConfiguredStore();
      await store.close();
      printOk({ driver: store.driver, migrated: true });
    });

  const token = program
    .command("admin")
    .description("Administration.")
    .command("token")
    .description("API tokens.");
  token
    .command("create")
    .description(
      "Recovery: issue a token straight in the database, no API needed (admin by default; --kind worker needs --project-id and --role, --kind user needs --user-id). Shown once.",
    )
    .option("--name <name>", "a label for the token")
    .option("--kind <kind>", "admin|worker|user")
    .option("--project-id <uuid>", "project a worker token is limited to")
    .option("--role <role>", "agent role of a worker token")
    .option("--user-id <uuid>", "the user a user token acts for")
    .option("--groups <list>", "comma-separated tool groups of a worker token")
    .action(async (raw: Record<string, string | undefined>) => {
      const spec = parseOrThrow(ApiTokenCreate, parseOrThrow(TokenCreateOptions, raw, "options"), "options");
      // Direct database access: this is how an operator recovers when no admin token is at hand.
      const store = await openConfiguredStore();
      try {
        const { createToken } = await import("../auth/index.js");
        printOk(await createToken(store, spec));
      } finally {
        await store.close();
      }
    });
  token
    .command("revoke")
    .description(
      "Recovery: revoke a token by id straight in the database, no API needed (never the last admin token).",
    )
    .requiredOption("--id <uuid>", "token id")
    .action(async (raw: { id: string }) => {
      const { id } = parseOrThrow(z.object({ id: Id }), raw, "options");
      const store = await openConfiguredStore();
      try {
        const { revokeToken } = await import("../auth/index.js");
        printOk(await revokeToken(store, id));
      } finally {
        await store.close();
      }
    });

  program
    .command("mcp")
    .description(
      "MCP server over stdio exposing the tools this token may call (ORCHESTRATOR_API_URL, ORCHESTRATOR_TOKEN).",
    )
    .action(async () => {
      // The agent's tool calls outlast an API restart: a minute of tries before an error reaches it.
      const client = new ApiClient(clientSettings(process.env), { retryWindowMs: 60_000 });
      const allowed = (await client.request("GET", "/api/tools")) as { items: { name: string }[] };
      const registry = createToolRegistry();
      const names = new Set(allowed.items.map((t) => t.name));
      const server = createMcpServer({
        tools: registry.list().filter((t) => names.has(t.name)),
        call: (name, input) => client.callTool(name, input),
        version: packageVersion(),
      });
      const { StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js");
      await server.connect(new StdioServerTransport());
    });

  program
    .command("scripted-playbook")
    .description(
      "Print the demo's playbook for the scripted agent: a SCRIPTED_PLAYBOOK file (read by the workers role) to start from.",
    )
    .action(async () => {
      const { demoPlaybook } = await import("../demo/index.js");
      process.stdout.write(`${JSON.stringify(demoPlaybook(), null, 2)}\n`);
    });

  addWorkerImageCommand(program);
  addToolCommands(program, createToolRegistry());
  addRotateKeyCommand(program, { openStore: openConfiguredStore });
  return program;
}

/** Parses argv; every failure, including commander's own, is printed as a JSON error with exit 1. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  const silence = (cmd: Command) => {
    cmd.exitOverride().configureOutput({ outputError: () => {} });
    for (const sub of cmd.commands) silence(sub);
  };
  silence(program);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
      )
        return;
      const message = error.message.replace(/^error: /, "");
      const option = /'(--?[\w-]+)/.exec(message)?.[1] ?? "";
      printError({
        code: "invalid_arguments",
        message,
        details: [{ path: option.replace(/^-+/, ""), message }],
      });
      return;
    }
    printError(errorBodyOf(error));
  }
}
