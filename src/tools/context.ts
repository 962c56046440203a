import type { Bus } from "../bus/index.js";
import type { Principal } from "../contracts/index.js";
import type { ServerService } from "../deploy/index.js";
import type { RunJournal } from "../events/index.js";
import type { Logger } from "../observability/index.js";
import type { BotTokens, SecretsService } from "../secrets/index.js";
import type { Store } from "../store/index.js";
import type { ToolContext } from "./tool.js";

/**
 * The services a process hands to tool handlers, whoever calls (API, chat, tests). The optional
 * ones exist only where the process holds them (the vault key, the deploy module, a journal).
 */
export interface ToolServices {
  readonly store: Store;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly secrets?: SecretsService | undefined;
  readonly bots?: BotTokens | undefined;
  readonly servers?: ServerService | undefined;
  readonly journal?: RunJournal | undefined;
}

/**
 * The one way to build the context of a tool call: `principal` acting with `services`. The logger
 * is tagged with the tool's name when one is given, so every door logs calls the same way.
 */
export function toolContextFor(
  principal: Principal,
  services: ToolServices,
  opts: { tool?: string } = {},
): ToolContext {
  return {
    principal,
    store: services.store,
    bus: services.bus,
    logger: opts.tool ? services.logger.child({ component: "tools", tool: opts.tool }) : services.logger,
    ...(services.secrets ? { secrets: services.secrets } : {}),
    ...(services.bots ? { bots: services.bots } : {}),
    ...(services.servers ? { servers: services.servers } : {}),
    ...(services.journal ? { journal: services.journal } : {}),
  };
}
