import { z } from "zod";
import { Id, Timestamp } from "./ids.js";

/**
 * The envelope every bus message travels in. The payload is validated by the consumer against the
 * schema of its `type`; the bus itself only carries triggers (the store holds workflow state).
 */
export const BusEnvelope = z.object({
  id: z.string().min(1),
  type: z.string().regex(/^[a-z][a-z0-9_.-]*$/),
  payload: z.unknown(),
  correlationId: z.string().nullable().default(null),
  replyTo: z.string().nullable().default(null),
  /**
   * The W3C `traceparent` of the span that published it, so the consumer's spans continue that
   * trace (null when the publisher traced nothing; absent in messages older than tracing).
   */
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .nullable()
    .default(null),
  createdAt: Timestamp,
});
export type BusEnvelope = z.infer<typeof BusEnvelope>;

/** Messages that start pipeline runs; `runId` makes delivery idempotent. */
export const RunRequested = z.object({ runId: Id, projectId: Id });
export type RunRequested = z.infer<typeof RunRequested>;
