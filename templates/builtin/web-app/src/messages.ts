import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import { JsonFile } from "./store.js";

/** What the contact form accepts; the messages here are shown next to each field. */
export const ContactForm = z.object({
  name: z.string("Please enter your name.").trim().min(1, "Please enter your name.").max(100, "At most 100 characters."),
  email: z
    .string("Please enter your email address.")
    .trim()
    .pipe(z.email("Please enter a valid email address, e.g. ada@example.com.").max(200, "At most 200 characters.")),
  message: z
    .string("Please write a message.")
    .trim()
    .min(1, "Please write a message.")
    .max(5000, "At most 5000 characters."),
});
export type ContactForm = z.infer<typeof ContactForm>;

/** One stored submission. */
export const Message = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  message: z.string(),
  createdAt: z.string(),
});
export type Message = z.infer<typeof Message>;

const MessagesFile = z.object({ messages: z.array(Message) });
type MessagesFile = z.infer<typeof MessagesFile>;

/** The contact form's submissions, kept in `${dataDir}/messages.json`. */
export class MessageStore {
  private readonly file: JsonFile<MessagesFile>;

  constructor(dataDir: string) {
    this.file = new JsonFile(join(dataDir, "messages.json"), () => ({ messages: [] }), MessagesFile.parse);
  }

  /** Every submission, newest first. */
  async list(): Promise<Message[]> {
    return (await this.file.read()).messages.toReversed();
  }

  /** Stores a validated submission and returns it as stored. */
  async add(form: ContactForm, now = new Date()): Promise<Message> {
    const message: Message = { id: randomUUID(), ...form, createdAt: now.toISOString() };
    await this.file.update((data) => ({ messages: [...data.messages, message] }));
    return message;
  }
}
