/**
 * The web chat API as the app sees it (`/api/chat/*`): plain types, since the server validates
 * and this app only reads what it is sent.
 */

export type Language = "en" | "ru";
export const LANGUAGES: readonly Language[] = ["en", "ru"];

export type ConversationState = "idle" | "processing" | "awaiting";

/** A signed-in web session (`/api/session`): who it is, when it ends, the value writes echo. */
export interface SessionInfo {
  kind: "admin" | "user";
  user: { id: string; name: string; role: "admin" | "user" } | null;
  expiresAt: string;
  csrfToken: string;
}

export interface Me {
  user: { id: string; name: string };
  language: Language;
  model: { provider: "anthropic" | "openai" | "scripted"; scripted: boolean };
  demo: boolean;
}

export interface Conversation {
  id: string;
  title: string;
  state: ConversationState;
  language: Language;
  updatedAt: string;
}

export type MessageRole = "person" | "po" | "system";
export type MessageKind = "text" | "progress" | "live" | "failed" | "blocked" | "error" | "notice";

export interface ChatLink {
  url: string;
  label: string;
}

export interface ChatMessage {
  id: string;
  seq: number;
  role: MessageRole;
  kind: MessageKind;
  text: string;
  runId: string | null;
  links: ChatLink[];
  createdAt: string;
  editedAt: string | null;
}

export interface Project {
  id: string;
  slug: string;
  name: string;
  status: string;
  url: string | null;
  botUsername: string | null;
}

/** The API's error body: `{ error: { code, message, details } }`. */
export interface ErrorBody {
  code: string;
  message: string;
  details: { path?: string; message?: string }[];
}
