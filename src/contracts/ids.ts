import { z } from "zod";

/** Every entity id is a UUID (never a repository name: the seed's bug). */
export const Id = z.uuid();
export type Id = z.infer<typeof Id>;

/** ISO-8601 timestamps travel as strings in every contract. */
export const Timestamp = z.iso.datetime({ offset: true });

/** Lower-case kebab identifier used for slugs and handles. */
export const Slug = z
  .string()
  .min(2)
  .max(63)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "lower-case letters, digits and inner hyphens only");

/** Pagination query shared by every list endpoint and list tool. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type PageQuery = z.infer<typeof PageQuery>;

/** A page of items with the total count so clients can page through. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    total: z.number().int().min(0),
    limit: z.number().int(),
    offset: z.number().int(),
  });
}
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
