import { z } from "zod";
import { Id, Timestamp } from "./ids.js";

/** A person who may talk to the system (Telegram and/or web login). */
export const UserRole = z.enum(["admin", "user"]);
export const User = z.object({
  id: Id,
  telegramId: z.string().regex(/^\d+$/).nullable(),
  webLogin: z.string().min(1).max(100).nullable(),
  name: z.string().min(1).max(200),
  role: UserRole,
  isAllowed: z.boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type User = z.infer<typeof User>;
/** What an admin gives to add a user; one of `telegramId` and `webLogin` is required. */
export const UserCreate = z
  .object({
    telegramId: z.string().regex(/^\d+$/, "digits only").nullable().default(null),
    webLogin: z.string().min(1).max(100).nullable().default(null),
    name: z.string().trim().min(1).max(200),
    role: UserRole.default("user"),
    isAllowed: z.boolean().default(true),
  })
  .refine((u) => u.telegramId !== null || u.webLogin !== null, {
    message: "a user needs a telegramId or a webLogin",
    path: ["telegramId"],
  });
export type UserCreate = z.input<typeof UserCreate>;
/** The fields of a user an admin may change. */
export const UserUpdate = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  role: UserRole.optional(),
  isAllowed: z.boolean().optional(),
});
export type UserUpdate = z.infer<typeof UserUpdate>;
