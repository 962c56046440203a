import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { AppDeps } from "../app.js";
import { ContactForm } from "../messages.js";
import { type ContactFormView, contactPage, thanksPage } from "../views/contact.js";
import { sendPage } from "../views/layout.js";

/** Keeps what was typed (strings only) so an invalid form is shown again as the person left it. */
function keptValues(body: unknown): ContactFormView["values"] {
  const source = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const text = (key: string) => (typeof source[key] === "string" ? source[key] : undefined);
  return { name: text("name"), email: text("email"), message: text("message") };
}

/** GET /contact (the form), POST /contact (validate, store, redirect), GET /contact/thanks. */
export function contactRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get("/contact", async (_request, reply) => sendPage(reply, contactPage()));

  app.post("/contact", async (request, reply) => {
    const parsed = ContactForm.safeParse(request.body ?? {});
    if (!parsed.success) {
      const fieldErrors = z.flattenError(parsed.error).fieldErrors;
      const errors: ContactFormView["errors"] = {
        name: fieldErrors.name?.[0],
        email: fieldErrors.email?.[0],
        message: fieldErrors.message?.[0],
      };
      for (const key of Object.keys(errors) as (keyof typeof errors)[]) if (!errors[key]) delete errors[key];
      return sendPage(reply, contactPage({ values: keptValues(request.body), errors }), 400);
    }
    const stored = await deps.messages.add(parsed.data);
    request.log.info({ messageId: stored.id }, "contact message stored");
    // POST-redirect-GET: reloading the thank-you page never submits twice.
    return reply.redirect("/contact/thanks", 303);
  });

  app.get("/contact/thanks", async (_request, reply) => sendPage(reply, thanksPage()));
}
