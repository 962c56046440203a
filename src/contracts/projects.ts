import { z } from "zod";
import { Id, PageQuery, Slug, Timestamp } from "./ids.js";
import { ProjectStatus } from "./status.js";

/** A piece of software the system builds and runs for its owner. */
export const Project = z.object({
  id: Id,
  slug: Slug,
  name: z.string().min(1).max(200),
  description: z.string().max(10_000),
  ownerId: Id.nullable(),
  template: z.string().nullable(),
  templateVersion: z.string().nullable(),
  repositoryUrl: z.string().nullable(),
  /** What agents starting a fresh session are told about the project so far. */
  summary: z.string().max(20_000),
  status: ProjectStatus,
  /** Model spend allowed per run of this project (USD), instead of what the agent configs give. */
  runBudgetUsd: z.number().positive().nullable(),
  /** When its live release stays down, the health monitor starts an engineering run to repair it. */
  autoRepair: z.boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Project = z.infer<typeof Project>;
export const ProjectCreate = z.object({
  name: z.string().trim().min(1).max(200),
  slug: Slug.optional().describe("defaults to a slug made from the name"),
  description: z.string().max(10_000).default(""),
  ownerId: Id.nullable().default(null),
  template: z.string().min(1).max(100).nullable().default(null),
  templateVersion: z.string().min(1).max(100).nullable().default(null),
});
export type ProjectCreate = z.input<typeof ProjectCreate>;
export const ProjectUpdate = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(10_000).optional(),
  template: z.string().min(1).max(100).nullable().optional(),
  templateVersion: z.string().min(1).max(100).nullable().optional(),
  repositoryUrl: z.string().nullable().optional(),
  summary: z.string().max(20_000).optional(),
  runBudgetUsd: z.number().positive().max(100_000).nullable().optional(),
  autoRepair: z
    .boolean()
    .optional()
    .describe("start an engineering run to repair the live release when it stays down"),
});
export type ProjectUpdate = z.infer<typeof ProjectUpdate>;

/**
 * How the project list is searched: `q` (a part of the name or slug, any case), `status`, `ownerId`.
 * The admin pages put these in their address.
 */
export const ProjectListQuery = PageQuery.extend({
  q: z.string().trim().max(200).optional(),
  status: ProjectStatus.optional(),
  ownerId: Id.optional(),
});
export type ProjectListQuery = z.infer<typeof ProjectListQuery>;
