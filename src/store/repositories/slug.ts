import { randomBytes } from "node:crypto";

const MAX_SLUG = 63;

/**
 * A kebab-case slug from a free-form name ("My Weather Bot!" -> "my-weather-bot"), at most 63
 * characters. Names with no Latin letters or digits fall back to "project".
 */
export function slugFromName(name: string): string {
  const base = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, MAX_SLUG)
    .replace(/-+$/g, "");
  if (base.length === 0) return "project";
  return base.length < 2 ? `project-${base}` : base;
}

/** The slug with a short random suffix, still within 63 characters; used after a clash. */
export function withSuffix(slug: string): string {
  const suffix = randomBytes(3).toString("hex");
  const head = slug.slice(0, MAX_SLUG - suffix.length - 1).replace(/-+$/g, "");
  return `${head}-${suffix}`;
}
