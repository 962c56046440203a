import { z } from "zod";
import { html, page } from "../html.js";
import { createNote, type Note, NoteInput } from "../notes.js";
import type { JsonStore } from "../store.js";
import type { RoutePlugin } from "../validation.js";

/** Shown on the pages; interpolated (never pasted into markup) so they are escaped like any value. */
const PROJECT_NAME = "{{projectName}}";
const DESCRIPTION = "{{description}}";

const NoteParams = z.object({ id: z.uuid("must be a note id (a UUID)") });

/** HTML pages (examples: replace them): every value goes through `html`, which escapes it. */
export const pageRoutes: RoutePlugin<{ notes: JsonStore<Note> }> = async (app, { notes }) => {
  app.get("/", async (_request, reply) => {
    const all = await notes.list();
    const body = html`<h1>${PROJECT_NAME}</h1>
<p>${DESCRIPTION}</p>
<form method="post" action="/notes">
<label>Note <input name="text" required maxlength="2000"></label>
<button type="submit">Save</button>
</form>
<ul>${all.map((n) => html`<li><a href="/notes/${n.id}">${n.text}</a></li>`)}</ul>`;
    return reply.type("text/html; charset=utf-8").send(page(PROJECT_NAME, body));
  });

  // An HTML form posts application/x-www-form-urlencoded (parsed by @fastify/formbody).
  app.post("/notes", { schema: { body: NoteInput } }, async (request, reply) => {
    const note = await createNote(notes, request.body);
    return reply.redirect(`/notes/${note.id}`, 303);
  });

  app.get("/notes/:id", { schema: { params: NoteParams } }, async (request, reply) => {
    const note = await notes.get(request.params.id);
    if (!note)
      return reply
        .code(404)
        .type("text/html; charset=utf-8")
        .send(page("Not found", html`<h1>Not found</h1>`));
    const body = html`<h1>Note</h1>
<p class="note">${note.text}</p>
<p><small>${note.createdAt}</small></p>
<p><a href="/">All notes</a></p>`;
    return reply.type("text/html; charset=utf-8").send(page("Note", body));
  });
};
