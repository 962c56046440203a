import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import { JsonStore } from "./store.js";

/** The example record kept on DATA_DIR: replace it with your own. */
export const Note = z.object({
  id: z.uuid(),
  text: z.string(),
  createdAt: z.iso.datetime(),
});
export type Note = z.infer<typeof Note>;

/** What a client sends to create a note (JSON API and HTML form alike). */
export const NoteInput = z.object({
  text: z.string().trim().min(1, "must not be empty").max(2000, "at most 2000 characters"),
});
export type NoteInput = z.infer<typeof NoteInput>;

/** The notes store, one JSON file on the data folder. */
export function openNotes(dataDir: string): JsonStore<Note> {
  return new JsonStore(join(dataDir, "notes.json"), Note);
}

/** Creates and stores a note; resolves once it is on disk. */
export async function createNote(store: JsonStore<Note>, input: NoteInput): Promise<Note> {
  const note: Note = { id: randomUUID(), text: input.text, createdAt: new Date().toISOString() };
  await store.put(note.id, note);
  return note;
}
