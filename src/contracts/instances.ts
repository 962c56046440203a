import { z } from "zod";
import { Timestamp } from "./ids.js";

/**
 * The roles a process can take (`up` takes them all): `api` (HTTP API, web chat and webhook doors),
 * `workers` (sandboxes), `engine` (runs), `chat` (PO turns, chat deliveries, Telegram polling) and
 * `scheduler` (cluster-wide periodic jobs, one process at a time).
 */
export const ProcessRole = z.enum(["api", "workers", "engine", "chat", "scheduler"]);
export type ProcessRole = z.infer<typeof ProcessRole>;

/**
 * A running orchestrator process, as its heartbeat in the store shows it: other processes learn
 * from it whether it is alive (`alive`: its lease has not expired by the database's clock) and
 * whether it restarted (`incarnation` changes at every start). Workers nodes keep their id across
 * restarts; engines take a new one each start.
 */
export const Instance = z.object({
  id: z.string().min(1).max(100),
  roles: z.array(ProcessRole).min(1),
  incarnation: z.string().min(1).max(100),
  host: z.string().max(255),
  pid: z.number().int().nonnegative(),
  startedAt: Timestamp,
  heartbeatAt: Timestamp,
  expiresAt: Timestamp,
  alive: z.boolean(),
  /** Where its `/health` answers, when it listens. */
  probeUrl: z.string().nullable(),
});
export type Instance = z.infer<typeof Instance>;
export const InstanceBeat = z.object({
  id: z.string().min(1).max(100),
  roles: z.array(ProcessRole).min(1),
  incarnation: z.string().min(1).max(100),
  host: z.string().max(255),
  pid: z.number().int().nonnegative(),
  ttlMs: z.number().int().positive(),
  probeUrl: z.string().nullable().default(null),
});
export type InstanceBeat = z.input<typeof InstanceBeat>;
