import i18next, { type i18n, type TOptions } from "i18next";
import type { ChatLanguage } from "../../contracts/index.js";
import { en } from "./en.js";
import { ru } from "./ru.js";

/** Every catalogue by language; English is the source and the fallback. */
export const CATALOGUES = { en, ru } as const;

type Leaves<T, P extends string = ""> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${K}` : Leaves<T[K], `${P}${K}.`>;
}[keyof T & string];
/** Keys of the English catalogue; a plural's key is its stem (`cancel.done` for `done_one`/`done_other`). */
export type MessageKey =
  Leaves<typeof en> extends infer K ? (K extends `${infer S}_${"one" | "other"}` ? S : K) : never;

/** Turns the system's message keys into words, in the conversation's language. */
export type Translator = (language: ChatLanguage, key: MessageKey, vars?: Record<string, unknown>) => string;

/** One i18next instance for the process, loaded synchronously from the catalogues above. */
export function createTranslator(): Translator {
  const instance: i18n = i18next.createInstance();
  void instance.init({
    initAsync: false,
    resources: { en: { translation: en }, ru: { translation: ru } },
    fallbackLng: "en",
    supportedLngs: Object.keys(CATALOGUES),
    // Texts go out as plain text; each channel escapes for its own markup.
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  return (language, key, vars) => instance.t(key, { lng: language, ...(vars ?? {}) } as TOptions);
}

/** The language of the system's messages for a Telegram `language_code` ("ru", "ru-RU", "en-GB", ...). */
export function languageOf(code: string | null | undefined): ChatLanguage {
  const base = (code ?? "").toLowerCase().split(/[-_]/)[0];
  return base === "ru" ? "ru" : "en";
}
