/**
 * Server-side HTML with escaping by default. `html` is a tagged template: every `${value}` is
 * escaped unless it is itself `Html` (the result of another `html` call, or `trustedHtml`).
 * Build every page through it: never concatenate strings that contain someone's input into markup.
 */

/** Markup that is already safe to send: made by `html`, or explicitly trusted. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML content and for quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Renders one interpolated value: Html as is, arrays joined, null/undefined/false as nothing, else escaped text. */
function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}

/** Tagged template: `html\`<p>${name}</p>\`` escapes `name`; nested `html` results stay markup. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

/** Marks a string as markup without escaping. Only for text you wrote yourself, never for input. */
export function trustedHtml(markup: string): Html {
  return new Html(markup);
}
