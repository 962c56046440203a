import { type Html, html } from "../html.js";
import { layout } from "./layout.js";

/** What the form shows: the person's input (kept on errors) and a message per invalid field. */
export interface ContactFormView {
  values: { name?: string; email?: string; message?: string };
  errors: Partial<Record<"name" | "email" | "message", string>>;
}

function fieldError(message: string | undefined, id: string): Html | string {
  return message ? html`<p class="field-error" id="${id}-error">${message}</p>` : "";
}

/** The contact form, empty or re-shown with errors. */
export function contactPage(view: ContactFormView = { values: {}, errors: {} }): Html {
  const { values, errors } = view;
  const invalid = (field: keyof ContactFormView["errors"]) =>
    errors[field] ? html` aria-invalid="true" aria-describedby="${field}-error"` : "";
  const hasErrors = Object.keys(errors).length > 0;
  return layout(
    "Contact",
    html`<h1>Contact us</h1>
${hasErrors ? html`<p class="form-error" role="alert">Please correct the fields below.</p>` : ""}
<form method="post" action="/contact" class="form" novalidate>
<label for="name">Name</label>
<input id="name" name="name" autocomplete="name" value="${values.name ?? ""}"${invalid("name")}>
${fieldError(errors.name, "name")}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="email" value="${values.email ?? ""}"${invalid("email")}>
${fieldError(errors.email, "email")}
<label for="message">Message</label>
<textarea id="message" name="message" rows="6"${invalid("message")}>${values.message ?? ""}</textarea>
${fieldError(errors.message, "message")}
<button type="submit">Send</button>
</form>`,
    "/contact",
  );
}

/** Shown after a stored submission (the redirect target of POST /contact). */
export function thanksPage(): Html {
  return layout(
    "Thank you",
    html`<h1>Thank you!</h1>
<p>Your message has been received. We will get back to you soon.</p>
<p><a href="/">Back to the home page</a></p>`,
  );
}
