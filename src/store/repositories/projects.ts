import { and, eq, ilike, or, sql } from "drizzle-orm";
import {
  Project,
  ProjectCreate,
  ProjectStatusMachine,
  ProjectUpdate,
  parseOrThrow,
} from "../../contracts/index.js";
import type { SecretRedactor } from "../../observability/index.js";
import { projects } from "../schema.js";
import type { ProjectRepository } from "../store.js";
import {
  casMove,
  type Db,
  filterId,
  firstOrNotFound,
  guard,
  iso,
  isUniqueViolation,
  listPage,
  mapDbError,
  requireId,
  toContract,
} from "./common.js";
import { slugFromName, withSuffix } from "./slug.js";

type Row = typeof projects.$inferSelect;

/** Tries with a derived slug before giving up: each retry adds a fresh random suffix. */
const SLUG_ATTEMPTS = 5;

function toProject(row: Row): Project {
  return toContract(
    Project,
    {
      id: row.id,
      slug: row.slug,
      name: row.name,
      description: row.description,
      ownerId: row.ownerId,
      template: row.template,
      templateVersion: row.templateVersion,
      repositoryUrl: row.repositoryUrl,
      summary: row.summary,
      status: row.status,
      runBudgetUsd: row.runBudgetUsd,
      autoRepair: row.autoRepair,
      createdAt: iso(row.createdAt),
      updatedAt: iso(row.updatedAt),
    },
    "project",
  );
}

/** A search text as a LIKE pattern's literal part: `%`, `_` and the escape character match themselves. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `description` and `summary` (people's and agents' words) with any secret masked. */
function redactFreeText<T extends { description?: string; summary?: string }>(
  redactor: SecretRedactor,
  data: T,
): T {
  return {
    ...data,
    ...(data.description !== undefined ? { description: redactor.redact(data.description) } : {}),
    ...(data.summary !== undefined ? { summary: redactor.redact(data.summary) } : {}),
  };
}

/**
 * Projects on any Postgres driver. A derived slug that clashes gets a short suffix; a given one is a
 * conflict. The free texts (description, summary) are redacted before they are stored.
 */
export function createProjectRepository(db: Db, redactor: SecretRedactor): ProjectRepository {
  const byId = (id: string) => db.select().from(projects).where(eq(projects.id, id));

  return {
    async create(input) {
      const data = redactFreeText(redactor, parseOrThrow(ProjectCreate, input, "project"));
      const isDerived = data.slug === undefined;
      let slug = data.slug ?? slugFromName(data.name);
      for (let attempt = 0; ; attempt++) {
        try {
          const [row] = await db
            .insert(projects)
            .values({ ...data, slug })
            .returning();
          return toProject(row as Row);
        } catch (error) {
          const canRetry =
            isDerived && attempt < SLUG_ATTEMPTS && isUniqueViolation(error, "projects_slug_unique");
          if (!canRetry) throw mapDbError(error);
          slug = withSuffix(slugFromName(data.name));
        }
      }
    },
    async get(id) {
      requireId("project", id);
      return toProject(await firstOrNotFound(byId(id), "project", id));
    },
    async findBySlug(slug) {
      const [row] = await guard(() => db.select().from(projects).where(eq(projects.slug, slug)));
      return row ? toProject(row) : null;
    },
    async list(page) {
      const status =
        page.status === undefined
          ? undefined
          : parseOrThrow(ProjectStatusMachine.schema, page.status, "project status");
      const search = page.q?.trim() ? `%${escapeLike(page.q.trim())}%` : undefined;
      const where = and(
        page.ownerId ? eq(projects.ownerId, filterId("ownerId", page.ownerId)) : undefined,
        status ? eq(projects.status, status) : undefined,
        search ? or(ilike(projects.name, search), ilike(projects.slug, search)) : undefined,
      );
      return listPage(db, projects, where, page, toProject);
    },
    async update(id, patch) {
      requireId("project", id);
      const data = redactFreeText(redactor, parseOrThrow(ProjectUpdate, patch, "project update"));
      return toProject(
        await firstOrNotFound(
          db
            .update(projects)
            .set({ ...data, updatedAt: sql`clock_timestamp()` })
            .where(eq(projects.id, id))
            .returning(),
          "project",
          id,
        ),
      );
    },
    async setStatus(id, to) {
      requireId("project", id);
      const target = parseOrThrow(ProjectStatusMachine.schema, to, "project status");
      const row = await casMove({
        entity: "project",
        id,
        to: target,
        read: async () => (await byId(id))[0],
        statusOf: (r) => r.status,
        assert: (from, next) => ProjectStatusMachine.assertTransition(from, next),
        write: async (from) =>
          (
            await db
              .update(projects)
              .set({ status: target, updatedAt: sql`clock_timestamp()` })
              .where(and(eq(projects.id, id), eq(projects.status, from)))
              .returning()
          )[0],
      });
      return toProject(row);
    },
  };
}
