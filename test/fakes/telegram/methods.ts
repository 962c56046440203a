/**
 * The Bot API methods by name: the bot-level ones here (getMe, getUpdates, commands, webhooks), the
 * chat ones in `messages.ts`. Unknown methods get Telegram's 404 "Not Found".
 */
import { commandsKey, type FakeBotCommand, type MethodContext, type MethodHandler } from "./bot.js";
import { MESSAGE_METHODS } from "./messages.js";
import {
  type ApiAnswer,
  boolParam,
  fail,
  intParam,
  jsonParam,
  ok,
  type Params,
  stringParam,
} from "./protocol.js";

/** getUpdates' `limit` bounds and default. */
const MAX_UPDATES_PER_POLL = 100;

const WEBHOOK_ACTIVE =
  "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

const getMe: MethodHandler = ({ bot }) =>
  ok({
    ...bot.user,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  });

const getUpdates: MethodHandler = ({ bot, signal }, params) => {
  if (bot.webhook.isActive) return fail(409, WEBHOOK_ACTIVE);
  const limit = intParam(params.limit) ?? MAX_UPDATES_PER_POLL;
  bot.queue.setAllowedTypes(jsonParam(params.allowed_updates));
  return bot.queue.poll(
    {
      offset: intParam(params.offset) ?? 0,
      limit: Math.min(Math.max(limit, 1), MAX_UPDATES_PER_POLL),
      timeoutS: Math.max(intParam(params.timeout) ?? 0, 0),
    },
    signal,
  );
};

const setWebhook: MethodHandler = ({ bot }, params) => {
  const url = stringParam(params.url) ?? "";
  if (url !== "" && !/^https?:\/\//.test(url)) {
    // Telegram wants HTTPS; the fake also takes plain HTTP so a test's local server can be the hook.
    return fail(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
  }
  if (boolParam(params.drop_pending_updates)) bot.queue.drop();
  bot.queue.setAllowedTypes(jsonParam(params.allowed_updates));
  if (url === "") {
    bot.webhook.remove();
    return ok(true);
  }
  bot.queue.endPoll(fail(409, "Conflict: terminated by setWebhook request"));
  bot.webhook.set(url, stringParam(params.secret_token));
  return ok(true);
};

const deleteWebhook: MethodHandler = ({ bot }, params) => {
  if (boolParam(params.drop_pending_updates)) bot.queue.drop();
  bot.webhook.remove();
  return ok(true);
};

const getWebhookInfo: MethodHandler = ({ bot }) => ok(bot.webhook.info());

function commandsKeyOf(params: Params): string {
  return commandsKey(jsonParam(params.scope), stringParam(params.language_code));
}

const setMyCommands: MethodHandler = ({ bot }, params) => {
  const commands = jsonParam(params.commands);
  if (!Array.isArray(commands)) return fail(400, "Bad Request: can't parse commands JSON object");
  const checked: FakeBotCommand[] = [];
  for (const entry of commands as Record<string, unknown>[]) {
    const command = stringParam(entry?.command) ?? "";
    const description = stringParam(entry?.description) ?? "";
    if (!/^[a-z0-9_]{1,32}$/.test(command)) return fail(400, "Bad Request: BOT_COMMAND_INVALID");
    if (description.length < 1 || description.length > 256) {
      return fail(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID");
    }
    checked.push({ command, description });
  }
  bot.commands.set(commandsKeyOf(params), checked);
  return ok(true);
};

const getMyCommands: MethodHandler = ({ bot }, params) => ok(bot.commands.get(commandsKeyOf(params)) ?? []);

const deleteMyCommands: MethodHandler = ({ bot }, params) => {
  bot.commands.delete(commandsKeyOf(params));
  return ok(true);
};

const METHODS = new Map<string, MethodHandler>([
  ["getme", getMe],
  ["getupdates", getUpdates],
  ["setwebhook", setWebhook],
  ["deletewebhook", deleteWebhook],
  ["getwebhookinfo", getWebhookInfo],
  ["setmycommands", setMyCommands],
  ["getmycommands", getMyCommands],
  ["deletemycommands", deleteMyCommands],
  ...MESSAGE_METHODS,
]);

/** Runs a Bot API method by name (any letter case, as Telegram accepts). */
export function runMethod(
  context: MethodContext,
  method: string,
  params: Params,
): ApiAnswer | Promise<ApiAnswer> {
  const handler = METHODS.get(method.toLowerCase());
  return handler ? handler(context, params) : fail(404, "Not Found");
}
