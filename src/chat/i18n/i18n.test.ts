import { describe, expect, it } from "vitest";
import { CATALOGUES, createTranslator, languageOf } from "./index.js";

/** Every key of a catalogue, a plural's forms folded into its stem. */
function keys(catalogue: object, prefix = ""): Set<string> {
  const out = new Set<string>();
  for (const [key, value] of Object.entries(catalogue)) {
    if (typeof value === "string") out.add(`${prefix}${key.replace(/_(zero|one|two|few|many|other)$/, "")}`);
    else for (const k of keys(value, `${prefix}${key}.`)) out.add(k);
  }
  return out;
}

describe("message catalogues", () => {
  it("gives Russian every message English has, and no other", () => {
    expect([...keys(CATALOGUES.ru)].sort()).toEqual([...keys(CATALOGUES.en)].sort());
  });

  it("keeps the placeholders of each message", () => {
    const placeholders = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
    const walk = (en: Record<string, unknown>, ru: Record<string, unknown>, path: string) => {
      for (const [key, value] of Object.entries(en)) {
        const other = ru[key] ?? ru[key.replace(/_one$/, "_few")];
        if (typeof value === "string")
          expect(placeholders(String(other)), `${path}${key}`).toEqual(placeholders(value));
        else walk(value as Record<string, unknown>, other as Record<string, unknown>, `${path}${key}.`);
      }
    };
    walk(CATALOGUES.en, CATALOGUES.ru, "");
  });

  it("answers in the asked language, with Russian plurals", () => {
    const t = createTranslator();
    expect(t("en", "new")).toBe("Starting fresh. What shall we build?");
    expect(t("ru", "new")).toBe("Начинаем заново. Что сделаем?");
    expect(t("ru", "cancel.done", { count: 1 })).toContain("1 ожидающее сообщение");
    expect(t("ru", "cancel.done", { count: 3 })).toContain("3 ожидающих сообщения");
    expect(t("ru", "cancel.done", { count: 5 })).toContain("5 ожидающих сообщений");
    expect(t("en", "cancel.done", { count: 2 })).toContain("2 waiting messages");
  });

  it("keeps what a person wrote as text (no escaping into entities)", () => {
    expect(
      createTranslator()("en", "outcome.failed", { project: "A & <B>", what: "build", reason: "x" }),
    ).toContain("A & <B>");
  });
});

describe("languageOf", () => {
  it("reads Telegram's language codes", () => {
    expect(languageOf("ru")).toBe("ru");
    expect(languageOf("ru-RU")).toBe("ru");
    expect(languageOf("en-GB")).toBe("en");
    expect(languageOf("de")).toBe("en");
    expect(languageOf(null)).toBe("en");
  });
});
