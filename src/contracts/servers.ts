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

/**
 * The handle of the server record that stands for this machine: the `local` driver's target. It is
 * never an SSH server: `pickServer` passes it by, health checks skip it, registration refuses it.
 */
export const LOCAL_SERVER = "local";

/** A host key fingerprint as OpenSSH prints it: `SHA256:` and 43 base64 characters. */
export const HostKeyFingerprint = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, "a fingerprint such as SHA256:... (ssh-keygen -l -E sha256)");

/** `docker compose` (the v2 plugin, or a v2 standalone `docker-compose`) or the Python `docker-compose` v1. */
export const ComposeFlavor = z.enum(["v1", "v2"]);
export type ComposeFlavor = z.infer<typeof ComposeFlavor>;

/** How to run Compose on one server: the program words and which generation it is. */
export const ComposeCommand = z.object({
  argv: z.array(z.string()).min(1),
  flavor: ComposeFlavor,
  version: z.string(),
});
export type ComposeCommand = z.infer<typeof ComposeCommand>;

/** What a provisioning check measured on a server (null: could not be read). */
export const ServerFacts = z.object({
  os: z.string().nullable(),
  cpuCores: z.number().int().positive().nullable(),
  memoryMb: z.number().int().nonnegative().nullable(),
  memoryAvailableMb: z.number().int().nonnegative().nullable(),
  diskMb: z.number().int().nonnegative().nullable(),
  diskFreeMb: z.number().int().nonnegative().nullable(),
  dockerVersion: z.string().nullable(),
  compose: ComposeCommand.nullable(),
});
export type ServerFacts = z.infer<typeof ServerFacts>;

/** Input of `register`: a server and the SSH key to reach it; optionally its known host key. */
export const ServerRegisterInput = ServerCreate.extend({
  handle: ServerCreate.shape.handle.refine((h) => h !== LOCAL_SERVER, {
    message: `"${LOCAL_SERVER}" stands for this machine (the local driver); choose another handle`,
  }),
  privateKey: z
    .string()
    .min(1, "a private key is required")
    .max(32 * 1024),
  capacity: Capacity.optional(),
  /** The server's host key fingerprint when known in advance; otherwise the first one seen is trusted. */
  hostKey: HostKeyFingerprint.optional(),
});
export type ServerRegisterInput = z.input<typeof ServerRegisterInput>;

/** The outcome of a check: the server as now stored and what was measured (null when unreachable). */
export const ServerCheck = z.object({ server: Server, facts: ServerFacts.nullable() });
export type ServerCheck = z.infer<typeof ServerCheck>;
