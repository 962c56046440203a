import { z } from "zod";
import { Id, Slug, Timestamp } from "./ids.js";
import { ServerStatus } from "./status.js";

/** Capacity a server offers (or a template needs). */
export const Capacity = z.object({
  cpuCores: z.number().positive(),
  memoryMb: z.number().int().positive(),
  diskMb: z.number().int().positive(),
});
export type Capacity = z.infer<typeof Capacity>;

/** A machine projects are deployed to. The SSH key is stored encrypted and never leaves the store. */
export const Server = z.object({
  id: Id,
  handle: Slug,
  host: z.string().min(1).max(255),
  sshPort: z.number().int().min(1).max(65535),
  sshUser: z.string().min(1).max(64),
  hasSshKey: z.boolean(),
  capacity: Capacity.nullable(),
  status: ServerStatus,
  lastHealthCheckAt: Timestamp.nullable(),
  lastError: z.string().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Server = z.infer<typeof Server>;
export const ServerCreate = z.object({
  handle: Slug,
  host: z.string().trim().min(1).max(255),
  sshPort: z.number().int().min(1).max(65535).default(22),
  sshUser: z.string().trim().min(1).max(64).default("root"),
  capacity: Capacity.nullable().default(null),
});
export type ServerCreate = z.input<typeof ServerCreate>;

/** One port on one server held by one project service; unique per server and port. */
export const PortAllocation = z.object({
  id: Id,
  serverId: Id,
  port: z.number().int().min(1).max(65535),
  projectId: Id,
  service: z.string().min(1).max(100),
  createdAt: Timestamp,
});
export type PortAllocation = z.infer<typeof PortAllocation>;
export const PortAllocationCreate = z.object({
  serverId: Id,
  port: z.number().int().min(1).max(65535),
  projectId: Id,
  service: z.string().trim().min(1).max(100).default("app"),
});
export type PortAllocationCreate = z.input<typeof PortAllocationCreate>;
