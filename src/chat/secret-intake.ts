import {
  type ChatButton,
  type ChatLanguage,
  type Conversation,
  nullIfNotFound,
  type User,
} from "../contracts/index.js";
import type { Logger } from "../observability/index.js";
import type { BotTokenCheck, BotTokens, SecretsService } from "../secrets/index.js";
import {
  type FoundSecret,
  MAX_SECRET_BYTES,
  scrubSecrets,
  secretReference,
  TELEGRAM_BOT_TOKEN_KEY,
} from "../secrets/index.js";
import type { Store } from "../store/index.js";
import type { Translator } from "./i18n/index.js";

export interface SecretIntakeDeps {
  store: Store;
  secrets: SecretsService;
  bots: BotTokens;
  t: Translator;
  logger: Logger;
}

/** A note to the person about a value taken out of their message. */
export interface IntakeNotice {
  text: string;
  buttons?: ChatButton[];
}

/** A person's message with its secrets taken out, and what to tell them about each. */
export interface SecretIntake {
  /** The text anything else may keep: each secret replaced by its reference. */
  text: string;
  /** Names taken out: the message holding them is deleted from the chat where the channel can. */
  taken: string[];
  notices: IntakeNotice[];
}

/**
 * A bare value: one line, no spaces, and a credential rather than a word ("Thanks!"): with a digit,
 * or long. Anything else while secrets are awaited goes to the PO as words.
 */
function isBareValue(text: string): boolean {
  return /^\S{8,}$/.test(text) && (/\d/.test(text) || text.length >= 20) && !text.startsWith("/");
}

const WEBHOOK_BUTTON = "webhook:";

/** The data of the button that removes a bot's webhook: the project's bot, or the one the chat holds. */
export function webhookButtonData(projectId: string | null): string {
  return `${WEBHOOK_BUTTON}${projectId ?? "held"}`;
}

export function parseWebhookButton(data: string): { projectId: string | null } | null {
  if (!data.startsWith(WEBHOOK_BUTTON)) return null;
  const owner = data.slice(WEBHOOK_BUTTON.length);
  return { projectId: owner === "held" ? null : owner };
}

/**
 * Takes secrets out of a person's message before anything keeps it. A message that is one bare
 * value while the PO waits for secrets fills the first one missing, for that project; values shaped
 * like secrets go to the awaited project when it asked for their name, else the conversation holds
 * them until a project of the person's adopts them. A bot token is checked with Telegram first: the
 * person hears which bot it is, or exactly why it was refused (and a refused token is not kept).
 */
export async function takeSecrets(
  deps: SecretIntakeDeps,
  conversation: Conversation,
  user: User,
  raw: string,
): Promise<SecretIntake> {
  const awaited = conversation.awaitingSecrets;
  const bare = raw.trim();
  if (awaited && isBareValue(bare)) {
    const key = awaited.keys[0] as string;
    const found = scrubSecrets(bare).secrets[0];
    // A value whose shape names another awaited secret (a bot token while a key is asked first) fills that one.
    const name = found && found.value === bare && awaited.keys.includes(found.name) ? found.name : key;
    const notices = await fillAwaited(deps, conversation, user, name, bare);
    return { text: secretReference(name), taken: [name], notices };
  }
  const scrubbed = scrubSecrets(raw);
  const notices: IntakeNotice[] = [];
  for (const secret of scrubbed.secrets) {
    if (Buffer.byteLength(secret.value, "utf8") > MAX_SECRET_BYTES) {
      notices.push({
        text: deps.t(conversation.language, "secrets.tooLarge", { name: secret.name, max: MAX_SECRET_BYTES }),
      });
    } else if (awaited?.keys.includes(secret.name)) {
      notices.push(...(await fillAwaited(deps, conversation, user, secret.name, secret.value)));
    } else {
      notices.push(...(await hold(deps, conversation, secret)));
    }
  }
  return { text: scrubbed.text, taken: [...new Set(scrubbed.secrets.map((s) => s.name))], notices };
}

/**
 * Fills a secret the PO asked for, from the chat or the web's masked field: stored for the awaited
 * project (a bot token once Telegram vouched for it), struck off the awaited names.
 */
export async function fillAwaited(
  deps: SecretIntakeDeps,
  conversation: Conversation,
  user: User,
  key: string,
  value: string,
): Promise<IntakeNotice[]> {
  const { t } = deps;
  const language = conversation.language;
  // Read afresh: an earlier value of the same message may have struck a name off already.
  const awaited = (await deps.store.conversations.get(conversation.id)).awaitingSecrets;
  const project = awaited ? await deps.store.projects.get(awaited.projectId).catch(nullIfNotFound) : null;
  if (!awaited || !project || project.ownerId !== user.id) {
    // Nothing asked for it (any more): the chat holds it, as it would a pasted one.
    return hold(deps, conversation, { name: key, value });
  }
  if (Buffer.byteLength(value, "utf8") > MAX_SECRET_BYTES) {
    return [{ text: t(language, "secrets.tooLarge", { name: key, max: MAX_SECRET_BYTES }) }];
  }
  const actor = `chat ${conversation.id}`;
  const filled = await deps.bots.fill(project.id, key, value, actor);
  if (!filled.ok) {
    if (filled.code !== "bot_token_unchecked") return [refusal(t, language, filled)];
    // Telegram could not be asked: nothing is lost, the chat holds it for the project to adopt.
    await deps.secrets.hold(conversation.id, [{ name: key, value }]);
    return [{ text: t(language, "bot.unchecked") }];
  }
  const rest = awaited.keys.filter((k) => k !== key);
  await deps.store.conversations.update(conversation.id, {
    awaitingSecrets: rest.length > 0 ? { projectId: project.id, keys: rest } : null,
  });
  const notices: IntakeNotice[] = [
    filled.bot
      ? { text: t(language, "bot.stored", { username: filled.bot.username, project: project.name }) }
      : { text: t(language, "secrets.stored", { key, project: project.name }) },
  ];
  if (filled.bot && filled.webhook)
    notices.push(webhookNotice(t, language, filled.bot.username, filled.webhook, project.id));
  if (rest.length > 0) notices.push({ text: t(language, "secrets.next", { key: rest[0] as string }) });
  return notices;
}

/** Holds a pasted value for the conversation; a bot token only once Telegram vouched for it. */
async function hold(
  deps: SecretIntakeDeps,
  conversation: Conversation,
  secret: Pick<FoundSecret, "name" | "value">,
): Promise<IntakeNotice[]> {
  const { t } = deps;
  const language = conversation.language;
  if (secret.name !== TELEGRAM_BOT_TOKEN_KEY) {
    await deps.secrets.hold(conversation.id, [secret]);
    return [];
  }
  const checked = await deps.bots.check(secret.value, null);
  if (!checked.ok && checked.code !== "bot_token_unchecked") return [refusal(t, language, checked)];
  await deps.secrets.hold(conversation.id, [secret]);
  if (!checked.ok) return [{ text: t(language, "bot.unchecked") }];
  const notices: IntakeNotice[] = [{ text: t(language, "bot.held", { username: checked.bot.username }) }];
  if (checked.webhook) notices.push(webhookNotice(t, language, checked.bot.username, checked.webhook, null));
  return notices;
}

function webhookNotice(
  t: Translator,
  language: ChatLanguage,
  username: string,
  url: string,
  projectId: string | null,
): IntakeNotice {
  return {
    text: t(language, "bot.webhook", { username, url }),
    buttons: [{ text: t(language, "bot.removeWebhook"), data: webhookButtonData(projectId) }],
  };
}

function refusal(
  t: Translator,
  language: ChatLanguage,
  check: Exclude<BotTokenCheck, { ok: true }>,
): IntakeNotice {
  switch (check.code) {
    case "invalid_bot_token":
      return { text: t(language, "bot.invalid") };
    case "bot_token_rejected":
      return { text: t(language, "bot.rejected") };
    case "bot_token_unchecked":
      return { text: t(language, "bot.unchecked") };
    case "bot_in_use":
      return {
        text: t(language, check.by === "pool" ? "bot.inPool" : "bot.inUse", { username: check.bot.username }),
      };
  }
}
