import type { z } from "zod";
import type { Bus } from "../bus/index.js";
import type { Principal, ToolGroup } from "../contracts/index.js";
import type { ServerService } from "../deploy/index.js";
import type { RunJournal } from "../events/index.js";
import type { Logger } from "../observability/index.js";
import type { BotTokens, SecretsService } from "../secrets/index.js";
import type { Store } from "../store/index.js";

/** What a tool handler may use. Built per call with `toolContextFor` by whoever invokes the registry. */
export interface ToolContext {
  readonly principal: Principal;
  readonly store: Store;
  readonly bus: Bus;
  readonly logger: Logger;
  /**
   * Secret values (vault + redactor), given by callers that hold the vault key; the `secrets`
   * tools answer `unavailable` without it.
   */
  readonly secrets?: SecretsService;
  /** Telegram bot tokens checked with Telegram, and the bot pool; where absent, tokens are checked by shape only. */
  readonly bots?: BotTokens;
  /** Deploy servers (register, check, remove); the `servers` tools answer `unavailable` without it. */
  readonly servers?: ServerService;
  /** Where run status moves and run events are written; `journaled(ctx)` builds one without it. */
  readonly journal?: RunJournal;
}

/**
 * One orchestrator tool, defined once: its name (`noun.verb`, or one word for the worker channels), permission group, input and output
 * schemas and handler. The CLI, LLM tool definitions, MCP server and agent docs all derive from it.
 */
export interface ToolDef<I extends z.ZodObject = z.ZodObject, O extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly group: ToolGroup;
  readonly summary: string;
  /** An input field holding a secret: the CLI reads it from stdin, never from a flag (argv is visible to every process). */
  readonly secretField?: string;
  /**
   * An output field the caller must see once though the API masks its shape (a new API token):
   * the API lets exactly that value through in this one answer.
   */
  readonly shownOnceField?: string;
  readonly input: I;
  readonly output: O;
  handler(input: z.output<I>, ctx: ToolContext): Promise<z.input<O>>;
}

/** Keeps the generic types of one definition while storing it in a heterogeneous list. */
export function defineTool<I extends z.ZodObject, O extends z.ZodType>(def: ToolDef<I, O>): ToolDef<I, O> {
  if (!/^[a-z][a-z_]*(\.[a-z_]+)*$/.test(def.name))
    throw new Error(`tool name ${def.name} must be noun.verb or one word`);
  return def;
}

/** `project.create` -> `project_create`: model APIs and MCP clients accept only [a-zA-Z0-9_-]. */
export function externalToolName(name: string): string {
  return name.replace(/\./g, "_");
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds tools of every input/output type.
export type AnyToolDef = ToolDef<any, any>;
