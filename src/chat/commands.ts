import type { ChatLanguage, Conversation, Project, User } from "../contracts/index.js";
import type { Store } from "../store/index.js";
import type { MessageKey, Translator } from "./i18n/index.js";

/** The commands answered without a model, in the order the menu shows them. */
export const COMMANDS = ["start", "help", "projects", "status", "new", "cancel"] as const;
export type Command = (typeof COMMANDS)[number];

/** `/status@my_bot args` -> `status`; null for text that is not a command. */
export function commandOf(text: string): { command: string } | null {
  const match = /^\/([a-zA-Z_]+)(@\w+)?(\s|$)/.exec(text.trim());
  return match ? { command: (match[1] as string).toLowerCase() } : null;
}

export function isCommand(name: string): name is Command {
  return (COMMANDS as readonly string[]).includes(name);
}

/** The command menu for Telegram's setMyCommands, per language. */
export function commandMenu(t: Translator, language: ChatLanguage) {
  return COMMANDS.map((command) => ({
    command,
    description: t(language, `command.${command}` as MessageKey),
  }));
}

/** One line per project: its status and, when live, its link. */
export async function projectLines(
  store: Store,
  t: Translator,
  language: ChatLanguage,
  projects: readonly Project[],
): Promise<string[]> {
  const lines: string[] = [];
  for (const project of projects) {
    let line = t(language, "projects.item", {
      name: project.name,
      status: t(language, `projectStatus.${project.status}` as MessageKey),
    });
    if (project.status === "live") {
      const live = await store.deployments.list({
        projectId: project.id,
        status: "healthy",
        limit: 1,
        offset: 0,
      });
      const url = live.items[0]?.url;
      if (url) line += t(language, "projects.link", { link: url });
    }
    lines.push(line);
  }
  return lines;
}

export async function userProjects(store: Store, user: User): Promise<Project[]> {
  return (await store.projects.list({ ownerId: user.id, limit: 50, offset: 0 })).items;
}

export function commandsHelp(t: Translator, conversation: Conversation): string {
  return t(conversation.language, "commands");
}
