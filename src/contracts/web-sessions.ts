import { z } from "zod";
import { Id, Timestamp } from "./ids.js";
import { User } from "./users.js";

/**
 * A sign-in to the web app: a bearer token exchanged for a session cookie. Only the hash of the
 * cookie's secret is kept; the session acts as the token it came from, so revoking the token or
 * barring its person ends the session at once.
 */
export const WebSession = z.object({
  id: Id,
  tokenId: Id,
  createdAt: Timestamp,
  expiresAt: Timestamp,
  revokedAt: Timestamp.nullable(),
});
export type WebSession = z.infer<typeof WebSession>;

/** What signing in takes: an admin or user API token (a worker token cannot sign in). */
export const SignIn = z.object({ token: z.string().trim().min(1, "a token is required").max(200) });
export type SignIn = z.infer<typeof SignIn>;

/**
 * The signed-in session as the web app sees it: who it is, when it ends, and the value every
 * write must echo in `x-csrf-token`.
 */
export const SessionView = z.object({
  kind: z.enum(["admin", "user"]),
  user: User.pick({ id: true, name: true, role: true }).nullable(),
  expiresAt: Timestamp,
  csrfToken: z.string(),
});
export type SessionView = z.infer<typeof SessionView>;
