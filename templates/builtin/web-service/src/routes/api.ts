import { z } from "zod";
import { createNote, type Note, NoteInput } from "../notes.js";
import type { JsonStore } from "../store.js";
import type { RoutePlugin } from "../validation.js";

const NoteParams = z.object({ id: z.uuid("must be a note id (a UUID)") });

/** The JSON API (example routes: replace them). Registered under `/api`. */
export const apiRoutes: RoutePlugin<{ notes: JsonStore<Note> }> = async (app, { notes }) => {
  app.get(
    "/hello",
    { schema: { querystring: z.object({ name: z.string().trim().min(1).max(100).default("world") }) } },
    async (request) => ({ message: `Hello, ${request.query.name}!`, service: "{{projectName}}" }),
  );

  app.post("/notes", { schema: { body: NoteInput } }, async (request, reply) => {
    const note = await createNote(notes, request.body);
    return reply.code(201).header("location", `/api/notes/${note.id}`).send(note);
  });

  app.get("/notes", async () => ({ notes: await notes.list() }));

  app.get("/notes/:id", { schema: { params: NoteParams } }, async (request, reply) => {
    const note = await notes.get(request.params.id);
    if (!note) return reply.code(404).send({ error: "note not found" });
    return note;
  });
};
