import { createContext, useContext } from "react";
import { en as serverEn } from "../../src/chat/i18n/en";
import { ru as serverRu } from "../../src/chat/i18n/ru";
import type { ConversationState, Language, MessageKind, MessageRole } from "./contract";

/** Every string the app shows, in English; `ru` must have the same keys (the type says so). */
const en = {
  /** For dates and times. */
  locale: "en",
  appTitle: "Orchestrator chat",
  signInTitle: "Sign in",
  signInIntro: "Paste the access token you were given to open your conversations.",
  tokenLabel: "Access token",
  signIn: "Sign in",
  signingIn: "Signing in…",
  signOut: "Sign out",
  signedInAs: (name: string) => `Signed in as ${name}`,
  tokenRefused: "The token was refused. Sign in again with a valid token.",
  sessionEnded: "Your session has ended. Sign in again.",
  adminPages: "Admin",
  conversations: "Conversations",
  newConversation: "New conversation",
  untitled: "New conversation",
  noConversations: "No conversations yet.",
  projects: "Projects",
  noProjects: "No projects yet.",
  chooseConversation: "Choose a conversation or start a new one.",
  noMessages: "No messages yet. Describe what you want built.",
  messages: "Messages",
  messageLabel: "Your message",
  messageHint: "Enter sends, Shift+Enter starts a new line.",
  send: "Send",
  working: "Working…",
  secretLabel: "{{key}} (hidden as you type; never shown in the chat)",
  secretSave: "Store secret",
  language: "Language",
  demoBanner: "Demo: the Product Owner is scripted, no model is called",
  reconnecting: "Connection lost, reconnecting…",
  unreachable: "The server could not be reached.",
  errorTitle: "Something went wrong",
  dismiss: "Dismiss",
  loading: "Loading…",
  edited: "updated",
  roles: { person: "You", po: "Product Owner", system: "System" } satisfies Record<MessageRole, string>,
  kinds: {
    text: "",
    progress: "In progress",
    live: "Live",
    failed: "Failed",
    blocked: "Blocked",
    error: "Error",
    notice: "Notice",
  } satisfies Record<MessageKind, string>,
  states: { idle: "idle", processing: "working", awaiting: "waiting for you" } satisfies Record<
    ConversationState,
    string
  >,
  /** A project's status in the words the chat's own messages use (one catalogue for both). */
  projectStatuses: serverEn.projectStatus as Partial<Record<string, string>>,
};

export type Strings = typeof en;

const ru: Strings = {
  locale: "ru",
  appTitle: "Чат оркестратора",
  signInTitle: "Вход",
  signInIntro: "Вставьте выданный вам токен доступа, чтобы открыть свои разговоры.",
  tokenLabel: "Токен доступа",
  signIn: "Войти",
  signingIn: "Вход…",
  signOut: "Выйти",
  signedInAs: (name: string) => `Вы вошли как ${name}`,
  tokenRefused: "Токен не принят. Войдите снова с действующим токеном.",
  sessionEnded: "Сеанс завершён. Войдите снова.",
  adminPages: "Администрирование",
  conversations: "Разговоры",
  newConversation: "Новый разговор",
  untitled: "Новый разговор",
  noConversations: "Разговоров пока нет.",
  projects: "Проекты",
  noProjects: "Проектов пока нет.",
  chooseConversation: "Выберите разговор или начните новый.",
  noMessages: "Сообщений пока нет. Опишите, что нужно сделать.",
  messages: "Сообщения",
  messageLabel: "Ваше сообщение",
  messageHint: "Enter отправляет, Shift+Enter переносит строку.",
  send: "Отправить",
  working: "Работаю…",
  secretLabel: "{{key}} (скрыт при вводе; в чате не показывается)",
  secretSave: "Сохранить секрет",
  language: "Язык",
  demoBanner: "Демо: Product Owner работает по сценарию, модель не вызывается",
  reconnecting: "Связь потеряна, переподключаюсь…",
  unreachable: "Сервер недоступен.",
  errorTitle: "Что-то пошло не так",
  dismiss: "Закрыть",
  loading: "Загрузка…",
  edited: "обновлено",
  roles: { person: "Вы", po: "Product Owner", system: "Система" },
  kinds: {
    text: "",
    progress: "В работе",
    live: "Запущено",
    failed: "Ошибка",
    blocked: "Остановлено",
    error: "Ошибка",
    notice: "Уведомление",
  },
  states: { idle: "ожидает", processing: "в работе", awaiting: "ждёт вас" },
  projectStatuses: serverRu.projectStatus,
};

const CATALOGUES: Record<Language, Strings> = { en, ru };

/** Each language named in itself, as a language picker shows it. */
export const LANGUAGE_NAMES: Record<Language, string> = { en: "English", ru: "Русский" };

/** The strings of `language`. */
export function stringsFor(language: Language): Strings {
  return CATALOGUES[language];
}

/** The browser's preferred language if we have it, else English (before anyone signs in). */
export function browserLanguage(): Language {
  return navigator.language.toLowerCase().startsWith("ru") ? "ru" : "en";
}

export const StringsContext = createContext<Strings>(en);

/** The strings of the language the app shows now. */
export function useStrings(): Strings {
  return useContext(StringsContext);
}
