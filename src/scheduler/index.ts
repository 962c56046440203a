/**
 * The scheduler module's public face: the `Job` a module hands over for periodic work, and the
 * `Scheduler` the composition root starts and stops, which runs each job on its interval (leader
 * jobs on one process at a time, by a lease in the store).
 */

export { type GcJobSpec, gcJob } from "./gc.js";
export { checkJob, type Job, type JobScope, type JobState } from "./job.js";
export {
  LEASE_INTERVALS,
  leaseTtlMs,
  MIN_LEASE_TTL_MS,
  Scheduler,
  type SchedulerOptions,
} from "./scheduler.js";
